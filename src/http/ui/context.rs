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

/// A safe place to go after signing in: a local path only.
pub fn local_path(next: Option<&str>) -> String {
    match next {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') => p.to_string(),
        _ => "/".to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(
            super::local_path(Some("/reports?year=2024")),
            "/reports?year=2024"
        );
        for hostile in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "evil",
        ] {
            assert_eq!(super::local_path(Some(hostile)), "/", "{hostile}");
        }
        assert_eq!(super::local_path(None), "/");
    }
}
