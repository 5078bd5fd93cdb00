//! A cap on request bodies: a declared length over the cap is refused before
//! anything is read, and a body without a declared length is read up to the
//! cap and no further.

use poem::http::{StatusCode, header};
use poem::{Endpoint, Middleware, Request, Result};

use super::error::reject;

pub struct LimitBody(pub usize);

impl<E: Endpoint> Middleware<E> for LimitBody {
    type Output = LimitBodyEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        LimitBodyEndpoint {
            inner: ep,
            max: self.0,
        }
    }
}

pub struct LimitBodyEndpoint<E> {
    inner: E,
    max: usize,
}

fn too_large(max: usize) -> poem::Error {
    reject(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!(
            "the request body is over the {} MB limit (import.max_upload_mb)",
            max / (1024 * 1024)
        ),
    )
}

impl<E: Endpoint> Endpoint for LimitBodyEndpoint<E> {
    type Output = E::Output;

    async fn call(&self, mut req: Request) -> Result<Self::Output> {
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        match declared {
            Some(length) if length > self.max => return Err(too_large(self.max)),
            Some(_) => {}
            None if req.headers().contains_key(header::TRANSFER_ENCODING) => {
                let body = req
                    .take_body()
                    .into_bytes_limit(self.max)
                    .await
                    .map_err(|_| too_large(self.max))?;
                req.set_body(body);
            }
            None => {}
        }
        self.inner.call(req).await
    }
}
