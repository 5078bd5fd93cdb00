//! The JSON API under `/api/v1`, described by its own OpenAPI document.

mod audit;
pub mod books;
mod btcpay;
mod btcpay_integrations;
mod btcpay_manage;
pub mod chain_source;
pub mod document;
pub mod exchanges;
mod instance;
mod invitations;
mod me;
mod members;
pub mod policy;
mod price_overrides;
pub mod prices;
mod reports;
mod review;
mod session;
mod system;
mod tokens;
mod wallet_labels;
pub mod wallets;

use base64::Engine;
use poem::endpoint::make_sync;
use poem::http::header;
use poem::web::Html;
use poem::{Endpoint, IntoResponse, Route};
use poem_openapi::{ApiResponse, OpenApiService, Tags};
use sha2::{Digest, Sha256};

#[derive(Tags)]
pub enum Tag {
    /// The appliance itself.
    System,
    /// First run, signing in and out.
    Session,
    /// The signed-in account.
    Account,
    /// Workspaces and their members.
    Workspaces,
    /// API tokens for scripts.
    Tokens,
    /// The append-only audit log.
    Audit,
    /// Instance-wide settings.
    Instance,
    /// Imports and reports.
    Books,
    /// BTCPay Server webhooks (signed by BTCPay, not by a session or token).
    Btcpay,
}

/// An empty success.
#[derive(ApiResponse)]
pub enum Done {
    #[oai(status = 204)]
    NoContent,
}

type Apis = (
    system::SystemApi,
    session::SessionApi,
    me::MeApi,
    (members::MembersApi, invitations::InvitationsApi),
    tokens::TokensApi,
    audit::AuditApi,
    (instance::InstanceApi, chain_source::ChainSourceApi),
    prices::PricesApi,
    books::BooksApi,
    review::ReviewApi,
    reports::ReportsApi,
    price_overrides::PriceOverridesApi,
    (wallets::WalletsApi, exchanges::ExchangesApi),
    wallet_labels::WalletLabelsApi,
    // poem-openapi takes tuples of up to 16: the BTCPay APIs are one member.
    (
        btcpay::BtcpayApi,
        btcpay_integrations::BtcpayIntegrationsApi,
        btcpay_manage::BtcpayManageApi,
    ),
);

pub type ApiService = OpenApiService<Apis, ()>;

pub fn service() -> ApiService {
    let apis = (
        system::SystemApi,
        session::SessionApi,
        me::MeApi,
        (members::MembersApi, invitations::InvitationsApi),
        tokens::TokensApi,
        audit::AuditApi,
        (instance::InstanceApi, chain_source::ChainSourceApi),
        prices::PricesApi,
        books::BooksApi,
        review::ReviewApi,
        reports::ReportsApi,
        price_overrides::PriceOverridesApi,
        (wallets::WalletsApi, exchanges::ExchangesApi),
        wallet_labels::WalletLabelsApi,
        (
            btcpay::BtcpayApi,
            btcpay_integrations::BtcpayIntegrationsApi,
            btcpay_manage::BtcpayManageApi,
        ),
    );
    OpenApiService::new(apis, "Ledgersys", env!("CARGO_PKG_VERSION"))
        .description(
            "The Ledgersys appliance API. Errors always have a JSON body \
             `{\"code\": \"...\", \"message\": \"...\"}` with a stable code. \
             Sign in with `POST /session` (a cookie plus a CSRF token for the \
             `X-CSRF-Token` header) or send an API token as `Authorization: Bearer ...`.",
        )
        .server("/api/v1")
}

/// The interactive API documentation. The page is generated with inline
/// scripts, so it gets its own policy that allows exactly those scripts by
/// hash; every other page keeps the strict default.
pub fn docs(service: &ApiService) -> impl Endpoint + use<> {
    let html = service.swagger_ui_html();
    let policy = docs_policy(&html);
    Route::new().at(
        "/",
        make_sync(move |_| {
            Html(html.clone())
                .with_header(header::CONTENT_SECURITY_POLICY, policy.clone())
                .into_response()
        }),
    )
}

fn docs_policy(html: &str) -> String {
    let hashes: Vec<String> = inline_scripts(html)
        .into_iter()
        .map(|script| {
            let digest = Sha256::digest(script.as_bytes());
            format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            )
        })
        .collect();
    format!(
        "default-src 'self'; script-src {}; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'; object-src 'none'",
        hashes.join(" ")
    )
}

/// The bodies of inline `<script>` elements, scanned the way an HTML parser
/// ends them: at the first `</script` after the opening tag.
fn inline_scripts(html: &str) -> Vec<&str> {
    let mut scripts = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after_tag = &rest[start..];
        let Some(open_end) = after_tag.find('>') else {
            break;
        };
        let body = &after_tag[open_end + 1..];
        let Some(close) = body.find("</script") else {
            break;
        };
        if !body[..close].trim().is_empty() {
            scripts.push(&body[..close]);
        }
        rest = &body[close..];
    }
    scripts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_docs_policy_hashes_each_inline_script() {
        let html = "<script a=1>one('<script')</script><p></p><script src=x></script>\
                    <script>two()</script>";
        assert_eq!(inline_scripts(html), ["one('<script')", "two()"]);
        let policy = docs_policy(html);
        // sha256("one()") in base64, computed independently.
        let expected =
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b"one('<script')"));
        assert!(policy.contains(&format!("'sha256-{expected}'")), "{policy}");
        let script_src = policy
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .expect("a script-src directive");
        assert!(!script_src.contains("unsafe-inline"), "{policy}");
    }
}
