//! One HTTP error type with stable machine-readable codes, and the one place
//! where every other error (poem's own parse errors, unknown routes, panics)
//! is reshaped: JSON under `/api`, an HTML page elsewhere.

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use poem::http::StatusCode;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};

use crate::store::StoreError;

/// The body of every API error.
#[derive(Debug, Clone, Object, serde::Serialize)]
pub struct ErrorBody {
    /// A stable, machine-readable code such as `not_found` or `invalid_request`.
    pub code: String,
    /// What went wrong and what to do, for a person.
    pub message: String,
}

#[derive(Debug, ApiResponse)]
#[oai(bad_request_handler = "bad_request")]
pub enum ApiError {
    /// The request is malformed.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// Not signed in, or the credentials are wrong.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// Signed in, but not allowed to do this.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// Not found.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// Conflicts with what exists (a taken name).
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// The body is larger than this route takes.
    #[oai(status = 413)]
    PayloadTooLarge(Json<ErrorBody>),
    /// Well-formed but not acceptable (a weak password).
    #[oai(status = 422)]
    Unprocessable(Json<ErrorBody>),
    /// Too many attempts; retry later.
    #[oai(status = 429)]
    TooManyRequests(Json<ErrorBody>),
    /// An internal error; the detail is in the server log.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// A dependency such as the database is unavailable.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
}

pub fn body(code: &str, message: impl Into<String>) -> Json<ErrorBody> {
    Json(ErrorBody {
        code: code.to_string(),
        message: message.into(),
    })
}

fn bad_request(err: poem::Error) -> ApiError {
    ApiError::BadRequest(body("invalid_request", err.to_string()))
}

impl ApiError {
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::NotFound(body("not_found", message))
    }

    /// Logs the detail and answers with a generic message, so internals such
    /// as SQL never reach a client.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        ApiError::Internal(body(
            "internal",
            "internal error; the server log has the details",
        ))
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Locked { .. } => {
                ApiError::Unavailable(body("database_busy", "the database is busy; retry shortly"))
            }
            StoreError::Conflict(message) => ApiError::Conflict(body("conflict", message)),
            StoreError::Invalid(message) => ApiError::Unprocessable(body("invalid", message)),
            StoreError::Text(refused) => refused.into(),
            other => ApiError::internal(other),
        }
    }
}

impl From<crate::auth::AuthError> for ApiError {
    fn from(err: crate::auth::AuthError) -> Self {
        use crate::auth::AuthError as E;
        let message = err.to_string();
        match err {
            E::InvalidCredentials => ApiError::Unauthorized(body("invalid_credentials", message)),
            E::LockedOut { .. } => ApiError::TooManyRequests(body("locked_out", message)),
            E::WrongCurrentPassword => ApiError::Forbidden(body("wrong_password", message)),
            E::WeakPassword(_) => ApiError::Unprocessable(body("weak_password", message)),
            E::Forbidden(_) => ApiError::Forbidden(body("forbidden", message)),
            E::Invalid(_) => ApiError::Unprocessable(body("invalid", message)),
            E::Conflict(_) => ApiError::Conflict(body("conflict", message)),
            E::NotFound(_) => ApiError::NotFound(body("not_found", message)),
            E::Store(store) => store.into(),
            E::Crypto(crypto) => ApiError::internal(crypto),
        }
    }
}

/// A refused field: 422 `too_long` or `private_material`, naming the field
/// but never repeating it.
impl From<crate::text::TextError> for ApiError {
    fn from(err: crate::text::TextError) -> Self {
        ApiError::Unprocessable(body(err.code(), err.to_string()))
    }
}

/// An error raised by middleware with its own stable code; `ShapeErrors`
/// renders it as JSON or as a page.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct HttpError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

/// A middleware refusal with a stable code.
pub fn reject(status: StatusCode, code: &'static str, message: impl Into<String>) -> poem::Error {
    poem::Error::from(HttpError {
        status,
        code,
        message: message.into(),
    })
}

impl poem::error::ResponseError for HttpError {
    fn status(&self) -> StatusCode {
        self.status
    }
}

/// The code for a status that no handler chose itself.
fn code_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::TOO_MANY_REQUESTS => "too_many_requests",
        s if s.is_server_error() => "internal",
        _ => "invalid_request",
    }
}

/// Reshapes every `poem::Error` that escapes a route, and catches panics so
/// that one bad request never takes the connection down with it.
pub struct ShapeErrors;

impl<E: Endpoint> Middleware<E> for ShapeErrors {
    type Output = ShapeErrorsEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        ShapeErrorsEndpoint { inner: ep }
    }
}

pub struct ShapeErrorsEndpoint<E> {
    inner: E,
}

impl<E: Endpoint> Endpoint for ShapeErrorsEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let path = req.uri().path().to_string();
        match AssertUnwindSafe(self.inner.call(req)).catch_unwind().await {
            Ok(Ok(resp)) => Ok(resp.into_response()),
            // An `ApiError` from a handler is already the JSON it should be.
            Ok(Err(err)) if err.is_from_response() => Ok(err.into_response()),
            Ok(Err(err)) => Ok(render(&path, err)),
            Err(panic) => {
                let detail = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                tracing::error!(%path, %detail, "a request handler panicked");
                let status = StatusCode::INTERNAL_SERVER_ERROR;
                Ok(render(&path, poem::Error::from_status(status)))
            }
        }
    }
}

fn render(path: &str, err: poem::Error) -> Response {
    let status = err.status();
    let own_code = err.downcast_ref::<HttpError>().map(|e| e.code);
    let message = if status.is_server_error() {
        tracing::error!(%path, error = %err, "internal error");
        "internal error; the server log has the details".to_string()
    } else if status == StatusCode::NOT_FOUND {
        format!("nothing is at {path}")
    } else {
        err.to_string()
    };
    if is_api(path) {
        let body = ErrorBody {
            code: own_code.unwrap_or_else(|| code_for(status)).to_string(),
            message,
        };
        poem::web::Json(body).with_status(status).into_response()
    } else {
        crate::http::ui::error_page(status, &message)
            .with_status(status)
            .into_response()
    }
}

fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

#[cfg(test)]
mod tests {
    use poem::test::TestClient;
    use poem::{EndpointExt, Route, handler};
    use poem_openapi::param::Path;
    use poem_openapi::{OpenApi, OpenApiService};

    use super::*;

    struct Probe;

    #[OpenApi]
    impl Probe {
        #[oai(path = "/items/:id", method = "get")]
        async fn item(&self, id: Path<u32>) -> Result<Json<u32>, ApiError> {
            Ok(Json(id.0))
        }
    }

    #[handler]
    fn explode() -> &'static str {
        panic!("boom with a secret detail")
    }

    fn app() -> impl Endpoint {
        Route::new()
            .nest("/api/v1", OpenApiService::new(Probe, "t", "1"))
            .at("/api/v1/explode", explode)
            .at("/explode", explode)
            .with(ShapeErrors)
    }

    #[tokio::test]
    async fn request_parse_errors_are_json() {
        let resp = TestClient::new(app())
            .get("/api/v1/items/not-a-number")
            .send()
            .await;
        resp.assert_status(StatusCode::BAD_REQUEST);
        let json = resp.json().await;
        json.value()
            .object()
            .get("code")
            .assert_string("invalid_request");
        let message = json.value().object().get("message").string().to_string();
        assert!(message.contains("id"), "{message}");
    }

    #[tokio::test]
    async fn a_panic_is_a_generic_500_without_its_detail() {
        let resp = TestClient::new(app()).get("/api/v1/explode").send().await;
        resp.assert_status(StatusCode::INTERNAL_SERVER_ERROR);
        let body = resp.0.into_body().into_string().await.expect("body");
        assert!(body.contains("\"code\":\"internal\""), "{body}");
        assert!(!body.contains("secret"), "{body}");

        let page = TestClient::new(app()).get("/explode").send().await;
        page.assert_status(StatusCode::INTERNAL_SERVER_ERROR);
        page.assert_content_type("text/html; charset=utf-8");
    }

    #[test]
    fn store_errors_never_leak_sql() {
        let err = ApiError::from(StoreError::Sql(sqlx::Error::Protocol(
            "SELECT secret FROM users".into(),
        )));
        let ApiError::Internal(Json(body)) = err else {
            panic!("a database failure is internal");
        };
        assert_eq!(body.code, "internal");
        assert!(!body.message.contains("SELECT"));
    }
}
