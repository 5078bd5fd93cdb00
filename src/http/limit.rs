//! One cap on every request body, applied before routing, authentication or
//! any parsing: a declared length over the cap is refused before anything
//! is read, and a body is read up to the cap and no further (chunked bodies
//! too), so no route, signed in or not, can be made to hold more.
//!
//! The cap depends on the route's class, not on anything the client says:
//! the few routes that take a file (imports, wallet exports, label files)
//! get `import.max_upload_mb`; every other route, API JSON and HTML forms
//! alike, gets [`SMALL`].

use poem::http::{Method, StatusCode, header};
use poem::{Endpoint, Middleware, Request, Result};

use super::error::reject;

/// The cap of every route that does not take a file: far above any form or
/// JSON body the product sends (a pasted list of addresses included).
pub const SMALL: usize = 1024 * 1024;

/// The routes that take a file, as (method, path) with `{}` for one
/// segment. Only these get the upload cap.
const UPLOADS: [(&str, &str); 5] = [
    ("POST", "/api/v1/workspaces/{}/imports"),
    ("POST", "/api/v1/workspaces/{}/labels"),
    ("POST", "/imports/preview"),
    ("POST", "/wallets/preview"),
    ("POST", "/wallets/labels"),
];

fn matches(pattern: &str, path: &str) -> bool {
    let mut given = path.trim_end_matches('/').split('/');
    let mut wanted = pattern.split('/');
    loop {
        match (wanted.next(), given.next()) {
            (None, None) => return true,
            (Some("{}"), Some(segment)) if !segment.is_empty() => {}
            (Some(a), Some(b)) if a == b => {}
            _ => return false,
        }
    }
}

/// The cap for a request to `path` with `method`.
pub fn cap_for(method: &Method, path: &str, upload_cap: usize) -> usize {
    let upload = UPLOADS
        .iter()
        .any(|(m, p)| *m == method.as_str() && matches(p, path));
    if upload { upload_cap } else { SMALL }
}

pub struct LimitBody {
    /// `import.max_upload_mb`, in bytes.
    pub upload_cap: usize,
}

impl<E: Endpoint> Middleware<E> for LimitBody {
    type Output = LimitBodyEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        LimitBodyEndpoint {
            inner: ep,
            upload_cap: self.upload_cap,
        }
    }
}

pub struct LimitBodyEndpoint<E> {
    inner: E,
    upload_cap: usize,
}

fn too_large(cap: usize, upload_cap: usize) -> poem::Error {
    let message = if cap == upload_cap {
        format!(
            "the file is over the {} MB upload limit (import.max_upload_mb)",
            cap / (1024 * 1024)
        )
    } else {
        format!(
            "the request body is over the {} KiB limit of this route",
            cap / 1024
        )
    };
    reject(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
}

impl<E: Endpoint> Endpoint for LimitBodyEndpoint<E> {
    type Output = E::Output;

    async fn call(&self, mut req: Request) -> Result<Self::Output> {
        let cap = cap_for(req.method(), req.uri().path(), self.upload_cap);
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|length| length > cap) {
            return Err(too_large(cap, self.upload_cap));
        }
        let has_body = declared.is_some_and(|length| length > 0)
            || req.headers().contains_key(header::TRANSFER_ENCODING);
        if has_body {
            let body = req
                .take_body()
                .into_bytes_limit(cap)
                .await
                .map_err(|_| too_large(cap, self.upload_cap))?;
            req.set_body(body);
        }
        self.inner.call(req).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_file_routes_get_the_upload_cap() {
        let post = Method::POST;
        assert_eq!(cap_for(&post, "/api/v1/workspaces/3/imports", 50), 50);
        assert_eq!(cap_for(&post, "/imports/preview", 50), 50);
        assert_eq!(cap_for(&post, "/wallets/labels/", 50), 50);
        for path in [
            "/login",
            "/setup",
            "/api/v1/session",
            "/api/v1/setup",
            "/api/v1/workspaces/3/imports/extra",
            "/api/v1/workspaces//imports",
            "/imports/commit",
        ] {
            assert_eq!(cap_for(&post, path, 50), SMALL, "{path}");
        }
        assert_eq!(cap_for(&Method::GET, "/imports/preview", 50), SMALL);
    }
}
