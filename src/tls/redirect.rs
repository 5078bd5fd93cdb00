//! The plain-HTTP listener that runs beside HTTPS: it answers ACME HTTP-01
//! challenges and sends every other request to the same path over HTTPS.
//! It serves nothing else, so no page, cookie or form ever crosses the
//! network in the clear.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use poem::http::{StatusCode, header};
use poem::{Endpoint, Request, Response};

const CHALLENGE_PREFIX: &str = "/.well-known/acme-challenge/";

/// Pending HTTP-01 answers: token → key authorization.
#[derive(Clone, Default)]
pub struct Challenges(Arc<RwLock<HashMap<String, String>>>);

impl Challenges {
    pub fn put(&self, token: &str, answer: &str) {
        let mut map = self.0.write().unwrap_or_else(|e| e.into_inner());
        map.insert(token.to_string(), answer.to_string());
    }

    pub fn remove(&self, token: &str) {
        let mut map = self.0.write().unwrap_or_else(|e| e.into_inner());
        map.remove(token);
    }

    fn answer(&self, token: &str) -> Option<String> {
        let map = self.0.read().unwrap_or_else(|e| e.into_inner());
        map.get(token).cloned()
    }
}

/// The endpoint: challenges, else a permanent redirect to HTTPS on
/// `https_port`.
pub struct Redirect {
    pub challenges: Challenges,
    pub https_port: u16,
}

impl Endpoint for Redirect {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let path = req.uri().path();
        if let Some(token) = path.strip_prefix(CHALLENGE_PREFIX) {
            return Ok(match self.challenges.answer(token) {
                Some(answer) => Response::builder()
                    .content_type("application/octet-stream")
                    .body(answer),
                None => Response::builder()
                    .status(StatusCode::NOT_FOUND)
                    .body("no such challenge"),
            });
        }
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .and_then(host_name);
        let Some(host) = host else {
            return Ok(Response::builder()
                .status(StatusCode::BAD_REQUEST)
                .body("this address serves HTTPS only; name the host you want"));
        };
        let port = match self.https_port {
            443 => String::new(),
            port => format!(":{port}"),
        };
        let rest = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        Ok(Response::builder()
            .status(StatusCode::PERMANENT_REDIRECT)
            .header(header::LOCATION, format!("https://{host}{port}{rest}"))
            .body(()))
    }
}

/// The host part of a `Host` header, when it is a plain name or address:
/// anything else could turn the redirect into a header injection.
fn host_name(value: &str) -> Option<&str> {
    if value.starts_with('[') {
        let end = value.find(']')?;
        let inner = &value[1..end];
        let fine = !inner.is_empty() && inner.chars().all(|c| c.is_ascii_hexdigit() || c == ':');
        return fine.then_some(&value[..=end]);
    }
    let host = value.split(':').next()?;
    let fine = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    fine.then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_plain_names_or_addresses() {
        assert_eq!(host_name("books.example.org"), Some("books.example.org"));
        assert_eq!(host_name("books.example.org:80"), Some("books.example.org"));
        assert_eq!(host_name("127.0.0.1:8080"), Some("127.0.0.1"));
        assert_eq!(host_name("[::1]:80"), Some("[::1]"));
        assert_eq!(host_name("evil.org/\r\nSet-Cookie: x"), None);
        assert_eq!(host_name(""), None);
    }
}
