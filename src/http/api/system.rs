//! What this instance is: version and database state.

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::Tag;
use crate::http::AppState;
use crate::http::error::ApiError;

#[derive(Debug, Object)]
pub struct Status {
    /// The Ledgersys version serving this request.
    pub version: String,
    /// The newest database migration applied.
    pub schema_version: i64,
    /// Seconds since the server started.
    pub uptime_seconds: u64,
}

pub struct SystemApi;

#[OpenApi(tag = "Tag::System")]
impl SystemApi {
    /// The instance's version, schema version and uptime.
    #[oai(path = "/status", method = "get", operation_id = "get_status")]
    async fn status(&self, state: Data<&AppState>) -> Result<Json<Status>, ApiError> {
        Ok(Json(Status {
            version: env!("CARGO_PKG_VERSION").to_string(),
            schema_version: state.store.schema_version().await?,
            uptime_seconds: state.started.elapsed().as_secs(),
        }))
    }
}
