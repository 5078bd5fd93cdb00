//! Who may call which API route, in one table, enforced before any handler
//! or body parsing runs. A route without a rule is unreachable (fail closed),
//! and the role-matrix test fails for it.

use poem::http::{Method, StatusCode};
use poem::{Endpoint, Middleware, Request, Result};

use crate::auth::{Caller, Role, Via};
use crate::http::AppState;
use crate::http::auth::MaybeCaller;
use crate::http::error::reject;
use crate::store::WorkspaceId;

/// What a route needs from its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Anyone, signed in or not.
    Public,
    /// No session or token: the handler authenticates the request by a
    /// signature over its body (BTCPay webhooks).
    Signed,
    /// A signed-in browser session (not an API token).
    Session,
    /// Any signed-in caller, by session or API token.
    User,
    /// A member of the `{workspace_id}` in the path with at least this role.
    Member(Role),
    /// The same, by a signed-in session only: API tokens are refused with
    /// `session_required` (tokens cannot make tokens).
    MemberSession(Role),
    /// An instance administrator, by session.
    InstanceAdmin,
}

/// Every API route: method, path as in the OpenAPI document, rule.
pub const RULES: &[(&str, &str, Rule)] = &[
    ("GET", "/status", Rule::Public),
    (
        "GET",
        "/workspaces/{workspace_id}/exchanges",
        Rule::Member(Role::Viewer),
    ),
    (
        "POST",
        "/workspaces/{workspace_id}/exchanges",
        Rule::Member(Role::Admin),
    ),
    (
        "POST",
        "/workspaces/{workspace_id}/exchanges/{exchange_id}/sync",
        Rule::Member(Role::Accountant),
    ),
    (
        "DELETE",
        "/workspaces/{workspace_id}/exchanges/{exchange_id}",
        Rule::Member(Role::Admin),
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/wallets",
        Rule::Member(Role::Viewer),
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/wallets/sync-status",
        Rule::Member(Role::Viewer),
    ),
    (
        "POST",
        "/workspaces/{workspace_id}/wallets",
        Rule::Member(Role::Accountant),
    ),
    (
        "POST",
        "/workspaces/{workspace_id}/wallets/preview",
        Rule::Member(Role::Accountant),
    ),
    (
        "POST",
        "/workspaces/{workspace_id}/wallets/{wallet_id}/sync",
        Rule::Member(Role::Accountant),
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/wallets/{wallet_id}/sync",
        Rule::Member(Role::Viewer),
    ),
    (
        "POST",
        "/workspaces/{workspace_id}/labels",
        Rule::Member(Role::Accountant),
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/labels",
        Rule::Member(Role::Viewer),
    ),
    ("POST", "/setup", Rule::Public),
    ("POST", "/session", Rule::Public),
    ("DELETE", "/session", Rule::Session),
    ("GET", "/me", Rule::User),
    ("PUT", "/me/email", Rule::Session),
    ("POST", "/me/password", Rule::Session),
    ("GET", "/me/alerts", Rule::User),
    ("POST", "/workspaces", Rule::InstanceAdmin),
    ("POST", "/me/alerts/read", Rule::Session),
    (
        "GET",
        "/workspaces/{workspace_id}",
        Rule::Member(Role::Viewer),
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/members",
        Rule::Member(Role::Admin),
    ),
    (
        "POST",
        "/workspaces/{workspace_id}/members",
        Rule::Member(Role::Admin),
    ),
    (
        "PUT",
        "/workspaces/{workspace_id}/members/{user_id}",
        Rule::Member(Role::Admin),
    ),
    (
        "DELETE",
        "/workspaces/{workspace_id}/members/{user_id}",
        Rule::Member(Role::Admin),
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/invitations",
        Rule::Member(Role::Admin),
    ),
    (
        "DELETE",
        "/workspaces/{workspace_id}/invitations/{invitation_id}",
        Rule::Member(Role::Admin),
    ),
    ("GET", "/me/invitations", Rule::Session),
    (
        "POST",
        "/me/invitations/{invitation_id}/accept",
        Rule::Session,
    ),
    (
        "POST",
        "/me/invitations/{invitation_id}/decline",
        Rule::Session,
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/tokens",
        Rule::Member(Role::Viewer),
    ),
    (
        "POST",
        "/workspaces/{workspace_id}/tokens",
        Rule::MemberSession(Role::Viewer),
    ),
    (
        "DELETE",
        "/workspaces/{workspace_id}/tokens/{token_id}",
        Rule::Member(Role::Viewer),
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/audit",
        Rule::Member(Role::Admin),
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/audit.csv",
        Rule::Member(Role::Admin),
    ),
    (
        "POST",
        "/workspaces/{workspace_id}/access",
        Rule::InstanceAdmin,
    ),
    (
        "POST",
        "/workspaces/{workspace_id}/imports",
        Rule::Member(Role::Accountant),
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/reports/summary",
        Rule::Member(Role::Viewer),
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/reports/summary.csv",
        Rule::Member(Role::Viewer),
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/review",
        Rule::Member(Role::Viewer),
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/transfers",
        Rule::Member(Role::Viewer),
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/transactions",
        Rule::Member(Role::Viewer),
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/duplicates",
        Rule::Member(Role::Viewer),
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/reports/detail/{report}",
        Rule::Member(Role::Viewer),
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/reports/csv/{report}",
        Rule::Member(Role::Viewer),
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/reports/trail",
        Rule::Member(Role::Viewer),
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/decisions",
        Rule::Member(Role::Viewer),
    ),
    (
        "POST",
        "/workspaces/{workspace_id}/decisions",
        Rule::Member(Role::Accountant),
    ),
    (
        "POST",
        "/workspaces/{workspace_id}/decisions/{decision_id}/undo",
        Rule::Member(Role::Accountant),
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/settings",
        Rule::Member(Role::Viewer),
    ),
    (
        "PUT",
        "/workspaces/{workspace_id}/settings",
        Rule::Member(Role::Admin),
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/transactions.csv",
        Rule::Member(Role::Viewer),
    ),
    ("GET", "/instance/audit", Rule::InstanceAdmin),
    ("GET", "/instance/smtp", Rule::InstanceAdmin),
    ("PUT", "/instance/smtp", Rule::InstanceAdmin),
    ("DELETE", "/instance/smtp", Rule::InstanceAdmin),
    ("POST", "/instance/smtp/test", Rule::InstanceAdmin),
    ("GET", "/instance/chain-source", Rule::InstanceAdmin),
    ("PUT", "/instance/chain-source", Rule::InstanceAdmin),
    (
        "GET",
        "/workspaces/{workspace_id}/price-overrides",
        Rule::Member(Role::Viewer),
    ),
    (
        "PUT",
        "/workspaces/{workspace_id}/price-overrides",
        Rule::Member(Role::Accountant),
    ),
    ("GET", "/instance/prices", Rule::InstanceAdmin),
    ("PUT", "/instance/prices", Rule::InstanceAdmin),
    ("PUT", "/instance/prices/coingecko-key", Rule::InstanceAdmin),
    (
        "DELETE",
        "/instance/prices/coingecko-key",
        Rule::InstanceAdmin,
    ),
    ("POST", "/instance/prices/fill", Rule::InstanceAdmin),
    ("GET", "/instance/prices/fill", Rule::InstanceAdmin),
    ("POST", "/btcpay/webhook/{integration_id}", Rule::Signed),
    (
        "GET",
        "/workspaces/{workspace_id}/btcpay",
        Rule::Member(Role::Admin),
    ),
    (
        "POST",
        "/workspaces/{workspace_id}/btcpay",
        Rule::Member(Role::Admin),
    ),
    (
        "POST",
        "/workspaces/{workspace_id}/btcpay/sweep",
        Rule::Member(Role::Admin),
    ),
    (
        "DELETE",
        "/workspaces/{workspace_id}/btcpay/{integration_id}",
        Rule::Member(Role::Admin),
    ),
    (
        "PUT",
        "/workspaces/{workspace_id}/btcpay/{integration_id}/api-key",
        Rule::Member(Role::Admin),
    ),
    (
        "PUT",
        "/workspaces/{workspace_id}/btcpay/{integration_id}/webhook-secret",
        Rule::Member(Role::Admin),
    ),
];

/// The rule for a request, and the path parameters it matched.
pub fn rule_for(method: &Method, path: &str) -> Option<(Rule, Vec<(&'static str, String)>)> {
    RULES.iter().find_map(|(m, template, rule)| {
        if *m != method.as_str() {
            return None;
        }
        matches(template, path).map(|params| (*rule, params))
    })
}

fn matches(template: &'static str, path: &str) -> Option<Vec<(&'static str, String)>> {
    let want: Vec<&'static str> = template.trim_matches('/').split('/').collect();
    let got: Vec<&str> = path.trim_matches('/').split('/').collect();
    if want.len() != got.len() {
        return None;
    }
    let mut params = Vec::new();
    for (w, g) in want.iter().zip(&got) {
        match w.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
            Some(name) => params.push((name, g.to_string())),
            None if w == g => {}
            None => return None,
        }
    }
    Some(params)
}

/// The outcome of the policy, for handlers: who is calling and, for
/// workspace routes, with which role.
#[derive(Clone, Debug)]
pub struct Access {
    pub caller: Option<Caller>,
    pub workspace: Option<WorkspaceId>,
    pub role: Option<Role>,
}

impl Access {
    /// The caller; routes whose rule needs one always have it.
    pub fn caller(&self) -> Result<&Caller, crate::http::error::ApiError> {
        self.caller.as_ref().ok_or_else(|| {
            crate::http::error::ApiError::internal("a guarded route ran without a caller")
        })
    }
}

pub struct Enforce;

impl<E: Endpoint> Middleware<E> for Enforce {
    type Output = EnforceEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        EnforceEndpoint { inner: ep }
    }
}

pub struct EnforceEndpoint<E> {
    inner: E,
}

fn deny(status: StatusCode, code: &'static str, message: impl Into<String>) -> poem::Error {
    reject(status, code, message)
}

impl<E: Endpoint> Endpoint for EnforceEndpoint<E> {
    type Output = E::Output;

    async fn call(&self, mut req: Request) -> Result<Self::Output> {
        let path = req.uri().path().to_string();
        let relative = path.strip_prefix("/api/v1").unwrap_or(&path).to_string();
        let Some((rule, params)) = rule_for(req.method(), &relative) else {
            let known_path = RULES
                .iter()
                .any(|(_, template, _)| matches(template, &relative).is_some());
            if known_path {
                return Err(deny(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "method_not_allowed",
                    format!("{} is not allowed here", req.method()),
                ));
            }
            return Err(deny(StatusCode::NOT_FOUND, "not_found", "nothing is here"));
        };
        let caller = req
            .extensions()
            .get::<MaybeCaller>()
            .and_then(|c| c.0.clone());
        let state = req
            .data::<AppState>()
            .cloned()
            .ok_or_else(|| deny(StatusCode::INTERNAL_SERVER_ERROR, "internal", "no state"))?;
        let access = decide(&state, rule, &params, caller).await?;
        req.extensions_mut().insert(access);
        self.inner.call(req).await
    }
}

fn session_required() -> poem::Error {
    deny(
        StatusCode::FORBIDDEN,
        "session_required",
        "this needs a signed-in browser session, not an API token",
    )
}

async fn decide(
    state: &AppState,
    rule: Rule,
    params: &[(&'static str, String)],
    caller: Option<Caller>,
) -> Result<Access> {
    let signed_out = || {
        deny(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "sign in first (POST /api/v1/session)",
        )
    };
    let store = |e: crate::store::StoreError| {
        tracing::error!(error = %e, "policy lookup failed");
        deny(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )
    };
    let open = |caller| Access {
        caller,
        workspace: None,
        role: None,
    };
    match rule {
        Rule::Public => Ok(open(caller)),
        // Whoever calls, the handler sees no caller: only the signature counts.
        Rule::Signed => Ok(open(None)),
        Rule::User => caller.map(|c| open(Some(c))).ok_or_else(signed_out),
        Rule::Session => match caller {
            Some(
                c @ Caller {
                    via: Via::Session { .. },
                    ..
                },
            ) => Ok(open(Some(c))),
            Some(_) => Err(session_required()),
            None => Err(signed_out()),
        },
        Rule::InstanceAdmin => {
            let caller = caller.ok_or_else(signed_out)?;
            let is_admin = matches!(caller.via, Via::Session { .. })
                && state
                    .store
                    .user(caller.user_id)
                    .await
                    .map_err(store)?
                    .is_some_and(|u| u.instance_admin);
            if !is_admin {
                return Err(deny(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    "only an instance administrator may do this",
                ));
            }
            Ok(open(Some(caller)))
        }
        Rule::MemberSession(_) if matches!(&caller, Some(c) if matches!(c.via, Via::Token { .. })) => {
            Err(session_required())
        }
        Rule::Member(required) | Rule::MemberSession(required) => {
            let caller = caller.ok_or_else(signed_out)?;
            let workspace = params
                .iter()
                .find(|(name, _)| *name == "workspace_id")
                .and_then(|(_, v)| v.parse().ok())
                .map(WorkspaceId)
                .ok_or_else(|| deny(StatusCode::NOT_FOUND, "not_found", "no such workspace"))?;
            let role = match &caller.via {
                Via::Token {
                    workspace: scope,
                    role,
                    ..
                } => (*scope == workspace).then_some(*role),
                Via::Session { .. } => state
                    .store
                    .effective_role(caller.user_id, workspace, crate::clock::now())
                    .await
                    .map_err(store)?,
            };
            let Some(role) = role else {
                return Err(deny(
                    StatusCode::FORBIDDEN,
                    "not_a_member",
                    "you are not a member of this workspace",
                ));
            };
            if !role.allows(required) {
                return Err(deny(
                    StatusCode::FORBIDDEN,
                    "role_too_low",
                    format!("this needs the {required} role or higher; you are {role}"),
                ));
            }
            Ok(Access {
                caller: Some(caller),
                workspace: Some(workspace),
                role: Some(role),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_whole_segments_and_capture_parameters() {
        let (rule, params) = rule_for(&Method::DELETE, "/workspaces/7/members/12").expect("rule");
        assert_eq!(rule, Rule::Member(Role::Admin));
        assert_eq!(
            params,
            vec![
                ("workspace_id", "7".to_string()),
                ("user_id", "12".to_string())
            ]
        );
        assert!(rule_for(&Method::GET, "/workspaces/7/members/12/extra").is_none());
        assert!(rule_for(&Method::PATCH, "/workspaces/7").is_none());
        assert_eq!(
            rule_for(&Method::GET, "/status").map(|r| r.0),
            Some(Rule::Public)
        );
    }
}
