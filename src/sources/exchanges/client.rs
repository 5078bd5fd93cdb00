//! The one way a request to an exchange is made: checked against the
//! adapter's allow-list first, signed only after. An adapter never holds
//! the signing function apart from this, so no endpoint off the list ever
//! gets a signature, whatever the adapter asks for.

use super::allow::{AllowList, Refused};

/// A request that passed the allow-list and was signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared<S> {
    pub method: &'static str,
    pub path: String,
    pub signed: S,
}

/// Checks `method path` against `list`, then calls `sign` (never before,
/// never when refused).
pub fn prepare<S, E>(
    list: &AllowList,
    method: &'static str,
    path: &str,
    sign: impl FnOnce() -> Result<S, E>,
) -> Result<Result<Prepared<S>, E>, Refused> {
    list.check(method, path)?;
    Ok(sign().map(|signed| Prepared {
        method,
        path: path.to_string(),
        signed,
    }))
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::super::{binance, coinbase, kraken};
    use super::prepare;

    /// Every endpoint on the exchanges' never-call lists, asked for with
    /// every method, is refused, and the signer is never reached.
    #[test]
    fn no_never_call_endpoint_is_ever_signed() {
        for (list, never) in [
            (&kraken::ALLOW, kraken::NEVER_CALL),
            (&coinbase::ALLOW, coinbase::NEVER_CALL),
            (&binance::ALLOW, binance::NEVER_CALL),
        ] {
            assert!(!never.is_empty());
            for (only, path) in never {
                let methods = ["GET", "POST", "PUT", "DELETE", "PATCH"];
                for method in methods.into_iter().filter(|m| *only == "*" || m == only) {
                    let signed = Cell::new(false);
                    let result = prepare(list, method, path, || {
                        signed.set(true);
                        Ok::<_, ()>(())
                    });
                    assert!(result.is_err(), "{}: {method} {path} passed", list.exchange);
                    assert!(
                        !signed.get(),
                        "{}: {method} {path} was signed",
                        list.exchange
                    );
                }
            }
        }
    }

    #[test]
    fn a_listed_endpoint_is_signed_once() {
        let calls = Cell::new(0);
        let prepared = prepare(&kraken::ALLOW, "POST", "/0/private/Ledgers", || {
            calls.set(calls.get() + 1);
            Ok::<_, ()>("sig")
        });
        assert_eq!(calls.get(), 1);
        let prepared = prepared.expect("listed").expect("signed");
        assert_eq!(
            (prepared.method, prepared.path.as_str(), prepared.signed),
            ("POST", "/0/private/Ledgers", "sig")
        );
    }
}
