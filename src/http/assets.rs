//! Static assets compiled into the binary, served with strong ETags.
//!
//! Pages link to `/assets/NAME?v=HASH`; such a URL names one exact file, so it
//! may be cached for a year. A URL without the current hash is revalidated.

use poem::http::{HeaderMap, StatusCode, header};
use poem::web::Path;
use poem::{Request, Response, handler};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "assets/"]
struct Assets;

/// The cache-busting URL of an embedded asset, for templates.
pub fn url(name: &str) -> String {
    match Assets::get(name) {
        Some(file) => format!(
            "/assets/{name}?v={}",
            &version(&file.metadata.sha256_hash())
        ),
        None => format!("/assets/{name}"),
    }
}

fn version(hash: &[u8; 32]) -> String {
    hex::encode(&hash[..8])
}

fn etag(hash: &[u8; 32]) -> String {
    format!("\"{}\"", hex::encode(&hash[..16]))
}

fn matches(headers: &HeaderMap, tag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"))
}

#[handler]
pub fn serve(Path(name): Path<String>, req: &Request) -> Response {
    let Some(file) = Assets::get(&name) else {
        return poem::Error::from_status(StatusCode::NOT_FOUND).into_response();
    };
    let hash = file.metadata.sha256_hash();
    let tag = etag(&hash);
    let pinned = req
        .uri()
        .query()
        .is_some_and(|q| q.split('&').any(|kv| kv == format!("v={}", version(&hash))));
    let cache = if pinned {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let builder = Response::builder()
        .header(header::ETAG, tag.as_str())
        .header(header::CACHE_CONTROL, cache);
    if matches(req.headers(), &tag) {
        return builder.status(StatusCode::NOT_MODIFIED).finish();
    }
    builder
        .header(header::CONTENT_TYPE, file.metadata.mimetype())
        .body(file.data.into_owned())
}
