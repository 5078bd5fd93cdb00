//! Who is calling: resolves the session cookie or bearer token once per
//! request, and refuses state changes that lack a CSRF token or come from
//! another site.

use poem::http::{Method, StatusCode, header};
use poem::{Endpoint, Middleware, Request, Result};
use subtle::ConstantTimeEq;

use super::AppState;
use super::error::reject;
use super::forwarded::ClientAddr;
use crate::auth::session::{COOKIE, COOKIE_TLS};
use crate::auth::{Caller, Client, Via};

/// The caller of this request, if any; always present in the extensions.
#[derive(Clone, Debug, Default)]
pub struct MaybeCaller(pub Option<Caller>);

pub const CSRF_HEADER: &str = "x-csrf-token";
pub const CSRF_FIELD: &str = "csrf_token";
const MAX_FORM_BYTES: usize = 64 * 1024;
/// Routes that are not session routes: BTCPay webhooks (authenticated by a
/// signature over the body) and the return of BTCPay's authorize flow (a
/// cross-site form POST, authenticated by its one-time state).
fn unsessioned(path: &str) -> bool {
    path.starts_with("/api/v1/btcpay/webhook/")
        || path == crate::http::ui::btcpay_authorize::CALLBACK
}

pub fn cookie_name(secure: bool) -> &'static str {
    if secure { COOKIE_TLS } else { COOKIE }
}

/// The `Set-Cookie` value for a new session.
pub fn session_cookie(token: &str, secure: bool) -> String {
    let mut cookie = format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Strict",
        cookie_name(secure)
    );
    if secure {
        cookie.push_str("; Secure");
    }
    cookie
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn cleared_cookie(secure: bool) -> String {
    let mut cookie = format!(
        "{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
        cookie_name(secure)
    );
    if secure {
        cookie.push_str("; Secure");
    }
    cookie
}

pub fn client_of(req: &Request) -> Client {
    let addr = match req.extensions().get::<ClientAddr>() {
        Some(ClientAddr(ip)) => ip.to_string(),
        None => req
            .remote_addr()
            .as_socket_addr()
            .map(|a| a.ip().to_string())
            .unwrap_or_else(|| "unknown".into()),
    };
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(200)
        .collect();
    Client { addr, user_agent }
}

fn cookie_value<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn bearer(req: &Request) -> Option<&str> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

pub struct Authenticate;

impl<E: Endpoint> Middleware<E> for Authenticate {
    type Output = AuthenticateEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        AuthenticateEndpoint { inner: ep }
    }
}

pub struct AuthenticateEndpoint<E> {
    inner: E,
}

impl<E: Endpoint> Endpoint for AuthenticateEndpoint<E> {
    type Output = E::Output;

    async fn call(&self, mut req: Request) -> Result<Self::Output> {
        let state = req
            .data::<AppState>()
            .cloned()
            .ok_or_else(|| reject(StatusCode::INTERNAL_SERVER_ERROR, "internal", "no state"))?;
        // Who is calling, once: every throttle, audit entry and alert of
        // this request reads it through `client_of`.
        if let Some(peer) = req.remote_addr().as_socket_addr().map(|a| a.ip()) {
            let forwarded = req
                .headers()
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .map(str::to_owned)
                .collect::<Vec<_>>();
            let client = state
                .trusted_proxies
                .client(peer, forwarded.iter().map(String::as_str));
            req.extensions_mut().insert(ClientAddr(client));
        }
        // BTCPay's requests carry no cookie, token or CSRF token, and the
        // authorize return comes from BTCPay's site: those routes check a
        // signature or a one-time state instead, and see no caller.
        if unsessioned(req.uri().path()) {
            req.extensions_mut().insert(MaybeCaller(None));
            return self.inner.call(req).await;
        }
        let now = crate::clock::now();
        let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
        if unsafe_method {
            refuse_cross_site(&req)?;
        }
        let caller = if let Some(token) = bearer(&req) {
            let caller = state.auth.api_token(token, now).await.map_err(internal)?;
            if caller.is_none() {
                return Err(reject(
                    StatusCode::UNAUTHORIZED,
                    "invalid_token",
                    "the API token is unknown, revoked, or its creator left the workspace",
                ));
            }
            caller
        } else if let Some(token) = cookie_value(&req, cookie_name(state.secure_cookies)) {
            state.auth.session(token, now).await.map_err(internal)?
        } else {
            None
        };
        if unsafe_method
            && let Some(Caller {
                via: Via::Session { csrf_token, .. },
                ..
            }) = &caller
        {
            check_csrf(&mut req, csrf_token).await?;
        }
        req.extensions_mut().insert(MaybeCaller(caller));
        self.inner.call(req).await
    }
}

fn internal(err: impl std::fmt::Display) -> poem::Error {
    tracing::error!(error = %err, "authentication failed internally");
    reject(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "internal error",
    )
}

/// Browsers say where a request comes from; a state change started by
/// another site (or another port of the same host, which browsers count as
/// the same site) is refused outright, signed in or not. `Sec-Fetch-Site` is
/// trusted when present; older browsers are judged by `Origin`. An `Origin`
/// of `null` is not judged: browsers send it for same-origin forms under our
/// `no-referrer` policy.
fn refuse_cross_site(req: &Request) -> Result<()> {
    let headers = req.headers();
    let foreign = match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some(site) => matches!(site, "cross-site" | "same-site"),
        None => match (
            headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
            headers.get(header::HOST).and_then(|v| v.to_str().ok()),
        ) {
            (Some("null"), _) | (None, _) | (_, None) => false,
            (Some(origin), Some(host)) => origin.split("://").nth(1) != Some(host),
        },
    };
    if foreign {
        return Err(reject(
            StatusCode::FORBIDDEN,
            "cross_site_request",
            "this request came from another site and was refused",
        ));
    }
    Ok(())
}

/// The CSRF token must come in the header, or for a form as a field.
async fn check_csrf(req: &mut Request, expected: &str) -> Result<()> {
    let matches = |given: &str| bool::from(given.as_bytes().ct_eq(expected.as_bytes()));
    if let Some(given) = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        if matches(given) {
            return Ok(());
        }
        return Err(csrf_error());
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let is_form = content_type.starts_with("application/x-www-form-urlencoded");
    let is_upload = content_type.starts_with("multipart/form-data");
    if is_form || is_upload {
        let limit = if is_upload {
            req.data::<AppState>()
                .map_or(super::MAX_REQUEST_BYTES, |s| s.max_upload_bytes)
        } else {
            MAX_FORM_BYTES
        };
        let body = req.take_body().into_bytes_limit(limit).await.map_err(|_| {
            reject(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                if is_upload {
                    "the file is over the upload limit (import.max_upload_mb)"
                } else {
                    "the form is too large"
                },
            )
        })?;
        let found = if is_upload {
            multipart_field(&body, CSRF_FIELD).is_some_and(|v| matches(&v))
        } else {
            form_urlencoded::parse(&body)
                .find(|(k, _)| k == CSRF_FIELD)
                .is_some_and(|(_, v)| matches(&v))
        };
        req.set_body(body);
        if found {
            return Ok(());
        }
    }
    Err(csrf_error())
}

/// The value of a small text field of a `multipart/form-data` body: the part
/// whose headers name it, up to the next line break.
fn multipart_field(body: &[u8], name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\"");
    let start = find(body, marker.as_bytes())?;
    let after_headers = start + find(&body[start..], b"\r\n\r\n")? + 4;
    let end = after_headers + find(&body[after_headers..], b"\r\n")?;
    String::from_utf8(body[after_headers..end].to_vec()).ok()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn csrf_error() -> poem::Error {
    reject(
        StatusCode::FORBIDDEN,
        "csrf_failed",
        "the request lacks a valid CSRF token (send it in the X-CSRF-Token header); reload the page and try again",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multipart_field_is_found_by_name() {
        let body = b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\nx,y\r\n--b\r\n\
                     Content-Disposition: form-data; name=\"csrf_token\"\r\n\r\nT0K3N\r\n--b--\r\n";
        assert_eq!(
            multipart_field(body, "csrf_token").as_deref(),
            Some("T0K3N")
        );
        assert_eq!(multipart_field(body, "other"), None);
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_with_the_host_prefix_under_tls() {
        let plain = session_cookie("t0k3n", false);
        assert_eq!(
            plain,
            "ledgersys_session=t0k3n; Path=/; HttpOnly; SameSite=Strict"
        );
        let tls = session_cookie("t0k3n", true);
        assert_eq!(
            tls,
            "__Host-ledgersys_session=t0k3n; Path=/; HttpOnly; SameSite=Strict; Secure"
        );
        assert!(cleared_cookie(true).starts_with("__Host-ledgersys_session=;"));
        assert!(
            cleared_cookie(true).contains("Max-Age=0")
                && cleared_cookie(true).ends_with("; Secure")
        );
    }
}
