//! The BTCPay webhook receiver. Not a session or token route: BTCPay proves
//! itself with the `BTCPay-Sig` HMAC of the raw body, checked before the
//! body is parsed. A 2xx goes back only once the event is committed; a 5xx
//! when BTCPay could not be read back, so that it retries.

use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::Tag;
use crate::btcpay::{MAX_WEBHOOK_BYTES, Received, WebhookError, signature};
use crate::http::AppState;
use crate::http::auth::client_of;
use crate::http::error::{ApiError, body};

#[derive(Debug, Object)]
pub struct WebhookAnswer {
    /// `applied`, `duplicate` or `ignored`.
    pub status: String,
    /// Income rows added by this delivery.
    pub added: u64,
    /// Income rows reversed by this delivery.
    pub reversed: u64,
}

pub struct BtcpayApi;

#[OpenApi(tag = "Tag::Btcpay")]
impl BtcpayApi {
    /// Receives a BTCPay Server webhook delivery (JSON, signed with the
    /// integration's webhook secret in `BTCPay-Sig: sha256=<hex>`).
    /// Redeliveries and duplicates are answered without being applied again.
    #[oai(
        path = "/btcpay/webhook/:integration_id",
        method = "post",
        operation_id = "btcpay_webhook"
    )]
    async fn webhook(
        &self,
        state: Data<&AppState>,
        req: &Request,
        integration_id: Path<String>,
        raw: poem::Body,
    ) -> Result<Json<WebhookAnswer>, ApiError> {
        let Ok(id) = integration_id.0.parse::<i64>() else {
            return Err(ApiError::not_found("no such BTCPay integration"));
        };
        let bytes = raw.into_bytes_limit(MAX_WEBHOOK_BYTES).await.map_err(|_| {
            ApiError::PayloadTooLarge(body(
                "payload_too_large",
                format!("a webhook body is at most {} KiB", MAX_WEBHOOK_BYTES / 1024),
            ))
        })?;
        let sig = req
            .headers()
            .get(signature::HEADER)
            .and_then(|v| v.to_str().ok());
        let client = client_of(req);
        let outcome = state
            .btcpay
            .receive(id, &bytes, sig, &client.addr, crate::clock::now())
            .await;
        let answer = |status: &str, added, reversed| {
            Json(WebhookAnswer {
                status: status.into(),
                added,
                reversed,
            })
        };
        match outcome {
            Ok(Received::Applied(b)) => Ok(answer("applied", b.added, b.reversed)),
            Ok(Received::Duplicate) => Ok(answer("duplicate", 0, 0)),
            Ok(Received::Ignored(_)) => Ok(answer("ignored", 0, 0)),
            Err(WebhookError::UnknownIntegration) => {
                Err(ApiError::not_found("no such BTCPay integration"))
            }
            Err(e @ WebhookError::BadSignature) => {
                Err(ApiError::Unauthorized(body("bad_signature", e.to_string())))
            }
            Err(e @ WebhookError::Malformed(_)) => Err(ApiError::Unprocessable(body(
                "malformed_event",
                e.to_string(),
            ))),
            Err(e @ WebhookError::Upstream(_)) => {
                tracing::warn!(integration = id, error = %e, "a BTCPay delivery waits for a retry");
                Err(ApiError::Unavailable(body(
                    "btcpay_unreachable",
                    e.to_string(),
                )))
            }
            Err(WebhookError::Internal(e)) => Err(ApiError::internal(e)),
        }
    }
}
