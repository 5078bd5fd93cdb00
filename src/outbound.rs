//! Addresses the server calls out to (BTCPay, Esplora, Bitcoin Core, price
//! sources): one check, so a malformed one is refused as the user's mistake
//! with the reason, never found out later as an unreachable server.

/// The base URL `input` names, without a trailing `/`, if it is an
/// `http://` or `https://` address with a host and nothing the server
/// would have to guess about: no user or password in it, no query, no
/// fragment, no spaces. `what` names the field in the refusal.
pub fn http_base(input: &str, what: &str) -> Result<String, String> {
    let text = input.trim();
    if !(text.starts_with("http://") || text.starts_with("https://")) {
        return Err(format!("{what} must start with http:// or https://"));
    }
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{what} must not contain spaces"));
    }
    let url = url::Url::parse(text).map_err(|e| format!("{what} is not an address: {e}"))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{what} has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "{what} must not carry a user or password; give those in their own fields"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{what} must not have a ? query or # fragment"));
    }
    Ok(text.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::http_base;

    #[test]
    fn plain_http_and_https_bases_pass_without_their_trailing_slash() {
        assert_eq!(
            http_base(" https://btcpay.example.org/ ", "u").as_deref(),
            Ok("https://btcpay.example.org")
        );
        assert_eq!(
            http_base("http://127.0.0.1:8332", "u").as_deref(),
            Ok("http://127.0.0.1:8332")
        );
        assert_eq!(
            http_base("http://[::1]:3002/api", "u").as_deref(),
            Ok("http://[::1]:3002/api")
        );
    }

    #[test]
    fn malformed_addresses_are_refused_with_the_reason() {
        for (bad, reason) in [
            ("btcpay.example.org", "must start with"),
            ("ftp://btcpay.example.org", "must start with"),
            ("http://", "not an address"),
            ("http://:80", "not an address"),
            ("http://[::1", "not an address"),
            ("http://exa mple.org", "spaces"),
            ("http://host:99999", "not an address"),
            ("https://user:pw@host", "user or password"),
            ("https://host/?a=1", "query"),
            ("https://host/#x", "fragment"),
        ] {
            let err = http_base(bad, "the address").expect_err(bad);
            assert!(err.contains(reason), "{bad}: {err}");
        }
    }
}
