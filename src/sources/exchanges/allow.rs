//! The read endpoints an adapter may reach, as (method, path template)
//! pairs. Anything else is refused before it is signed, so no adapter can
//! trade, withdraw, transfer, make deposit addresses, earn or manage keys,
//! whatever it asks for.

/// One endpoint: an HTTP method and a path, where `{name}` in a template
/// stands for one path segment of letters, digits, `-` and `_`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    pub method: &'static str,
    pub path: &'static str,
}

pub const fn get(path: &'static str) -> Endpoint {
    Endpoint {
        method: "GET",
        path,
    }
}

pub const fn post(path: &'static str) -> Endpoint {
    Endpoint {
        method: "POST",
        path,
    }
}

/// An exchange's read endpoints.
#[derive(Debug, Clone, Copy)]
pub struct AllowList {
    pub exchange: &'static str,
    pub endpoints: &'static [Endpoint],
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{exchange}: {method} {path} is not a read endpoint Ledgersys may call")]
pub struct Refused {
    pub exchange: &'static str,
    pub method: String,
    pub path: String,
}

impl AllowList {
    /// Ok when `method path` (a path without its query) is on the list.
    pub fn check(&self, method: &str, path: &str) -> Result<(), Refused> {
        let listed = self
            .endpoints
            .iter()
            .any(|e| e.method == method && matches(e.path, path));
        if listed {
            Ok(())
        } else {
            Err(Refused {
                exchange: self.exchange,
                method: method.to_string(),
                path: path.to_string(),
            })
        }
    }
}

fn matches(template: &str, path: &str) -> bool {
    if path.contains(['?', '#', '%', '\\']) || path.contains("..") {
        return false;
    }
    let mut wanted = template.split('/');
    let mut given = path.split('/');
    loop {
        match (wanted.next(), given.next()) {
            (None, None) => return true,
            (Some(w), Some(g)) if w.starts_with('{') && w.ends_with('}') => {
                let plain = !g.is_empty()
                    && g.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                if !plain {
                    return false;
                }
            }
            (Some(w), Some(g)) if w == g => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: AllowList = AllowList {
        exchange: "test",
        endpoints: &[get("/v2/accounts"), get("/v2/accounts/{id}/transactions")],
    };

    #[test]
    fn only_listed_methods_and_paths_pass() {
        assert!(LIST.check("GET", "/v2/accounts").is_ok());
        assert!(
            LIST.check("GET", "/v2/accounts/abc-123_x/transactions")
                .is_ok()
        );
        for (method, path) in [
            ("POST", "/v2/accounts"),
            ("GET", "/v2/accounts/"),
            ("GET", "/v2/accounts/x/transactions/1"),
            ("GET", "/v2/accounts//transactions"),
            ("GET", "/v2/accounts/../transactions"),
            ("GET", "/v2/accounts/a%2Fb/transactions"),
            ("GET", "/v2/accounts?x=1"),
            ("GET", "/V2/accounts"),
            ("DELETE", "/v2/accounts/x/transactions"),
        ] {
            assert!(LIST.check(method, path).is_err(), "{method} {path}");
        }
    }
}
