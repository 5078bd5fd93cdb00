//! The signed-in person a page is rendered for, and the guard that sends
//! everyone else to sign in (or to first-run setup).

use poem::web::Redirect;
use poem::{IntoResponse, Request, Response};

use crate::auth::{Caller, Role, Via};
use crate::http::AppState;
use crate::http::auth::MaybeCaller;
use crate::store::{UserId, WorkspaceId};

#[derive(Debug, Clone)]
pub struct Ui {
    pub user_id: UserId,
    pub username: String,
    pub instance_admin: bool,
    pub csrf_token: String,
    pub token_hash: Vec<u8>,
    pub workspace: Option<(WorkspaceId, String, Role)>,
    /// Every workspace the user belongs to, for the switcher.
    pub workspaces: Vec<(WorkspaceId, String, Role)>,
    pub unread_alerts: i64,
}

impl Ui {
    pub fn role(&self) -> Option<Role> {
        self.workspace.as_ref().map(|w| w.2)
    }

    pub fn can(&self, required: Role) -> bool {
        self.role().is_some_and(|r| r.allows(required))
    }
}

/// Where to send a visitor who is not signed in.
pub async fn sign_in_redirect(state: &AppState, req: &Request) -> Response {
    let users = state.store.count_users().await.unwrap_or(1);
    if users == 0 {
        return Redirect::see_other("/setup").into_response();
    }
    let next = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let target = format!(
        "/login?next={}",
        form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
    );
    Redirect::see_other(target).into_response()
}

/// The page context for a browser session, or the redirect to sign in.
pub async fn ui(state: &AppState, req: &Request) -> Result<Ui, Response> {
    let caller = req
        .extensions()
        .get::<MaybeCaller>()
        .and_then(|c| c.0.clone());
    let Some(Caller {
        user_id,
        username,
        via: Via::Session {
            csrf_token,
            token_hash,
        },
    }) = caller
    else {
        return Err(sign_in_redirect(state, req).await);
    };
    let internal = |e: crate::store::StoreError| {
        tracing::error!(error = %e, "cannot load the page context");
        super::error_page(
            poem::http::StatusCode::INTERNAL_SERVER_ERROR,
            "internal error",
        )
        .into_response()
    };
    let user = state.store.user(user_id).await.map_err(internal)?;
    let workspaces: Vec<(WorkspaceId, String, Role)> = state
        .store
        .workspaces_of(user_id)
        .await
        .map_err(internal)?
        .into_iter()
        .map(|(w, role)| (w.id, w.name, role))
        .collect();
    // The workspace this session chose, while the user still belongs to it;
    // otherwise the first one.
    let chosen = state
        .store
        .session_workspace(&token_hash)
        .await
        .map_err(internal)?;
    let workspace = workspaces
        .iter()
        .find(|w| Some(w.0) == chosen)
        .or(workspaces.first())
        .cloned();
    let unread_alerts = state.store.unread_alerts(user_id).await.map_err(internal)?;
    Ok(Ui {
        user_id,
        username,
        instance_admin: user.is_some_and(|u| u.instance_admin),
        csrf_token,
        token_hash,
        workspace,
        workspaces,
        unread_alerts,
    })
}

/// A safe place to go after signing in: a path on this site, or the
/// dashboard. Browsers drop tabs and line breaks from a `Location` and read
/// `\\` as `/`, so `/\t/evil.example` or `/\\evil.example` would leave for
/// another origin. Whatever arrives is refused if it holds a control
/// character, a backslash or a leading `//`, before or after percent
/// decoding; what passes is parsed against a placeholder origin and only
/// the path and query of the parsed URL are sent back, so nothing in the
/// answer can name a scheme or a host.
pub fn local_path(next: Option<&str>) -> String {
    next.and_then(same_origin_path)
        .unwrap_or_else(|| "/".to_string())
}

fn same_origin_path(next: &str) -> Option<String> {
    let decoded = percent_encoding::percent_decode_str(next).decode_utf8_lossy();
    for text in [next, decoded.as_ref()] {
        let hostile = !text.starts_with('/')
            || text.starts_with("//")
            || text.contains('\\')
            || text.chars().any(char::is_control);
        if hostile {
            return None;
        }
    }
    let base = url::Url::parse("http://ledgersys.invalid/").ok()?;
    let parsed = base.join(next).ok()?;
    if parsed.origin() != base.origin() || !parsed.username().is_empty() {
        return None;
    }
    Some(match parsed.query() {
        Some(query) => format!("{}?{query}", parsed.path()),
        None => parsed.path().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(local_path(Some("/reports?year=2024")), "/reports?year=2024");
        assert_eq!(local_path(Some("/wallets/3")), "/wallets/3");
        assert_eq!(
            local_path(Some("/imports?format=kraken%20ledgers")),
            "/imports?format=kraken%20ledgers"
        );
        for hostile in [
            "https://evil.example",
            "https:evil.example",
            "http:/evil.example",
            "javascript:alert(1)",
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\/evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r/evil.example",
            "\t//evil.example",
            "/%09/evil.example",
            "/%0a/evil.example",
            "/%0D/evil.example",
            "/%5C/evil.example",
            "/%5cevil.example",
            "/%2F/evil.example",
            "/%2fevil.example",
            "%2F%2Fevil.example",
            "evil",
            "",
        ] {
            assert_eq!(local_path(Some(hostile)), "/", "{hostile:?}");
        }
        assert_eq!(local_path(None), "/");
    }
}
