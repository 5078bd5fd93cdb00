//! First-run setup, signing in and signing out, as pages and forms.

use maud::html;
use poem::http::{StatusCode, header};
use poem::web::{Data, Form, Query, Redirect};
use poem::{IntoResponse, Request, Response, handler};
use serde::Deserialize;

use super::context::local_path;
use super::{layout, notice, render};
use crate::auth::AuthError;
use crate::auth::setup::{self, Owner};
use crate::http::AppState;
use crate::http::auth::{MaybeCaller, cleared_cookie, client_of, session_cookie};

#[derive(Deserialize)]
pub struct SetupForm {
    setup_token: String,
    username: String,
    password: String,
    email: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

fn setup_form(error: Option<&str>, username: &str) -> Response {
    render(layout::bare(
        "Set up Ledgersys",
        html! {
            h1 { "Set up Ledgersys" }
            p.lead { "Create the owner account. The setup token is in the server log, or run "
                code { "ledgersys admin setup-token" } " on the server." }
            (notice("error", error))
            form.card method="post" action="/setup" {
                label { "Setup token" input name="setup_token" required autocomplete="off"; }
                label { "Username" input name="username" required value=(username) autocomplete="username"; }
                label { "Password (at least 12 characters, hard to guess)"
                    input type="password" name="password" required minlength="12" autocomplete="new-password"; }
                label { "Email for security alerts (optional)" input type="email" name="email" autocomplete="email"; }
                button type="submit" { "Create owner account" }
            }
        },
    ))
    .into_response()
}

fn login_form(error: Option<&str>, username: &str, next: &str) -> Response {
    render(layout::bare(
        "Sign in",
        html! {
            h1 { "Sign in" }
            (notice("error", error))
            form.card method="post" action="/login" {
                input type="hidden" name="next" value=(next);
                label { "Username" input name="username" required value=(username) autocomplete="username"; }
                label { "Password" input type="password" name="password" required autocomplete="current-password"; }
                button type="submit" { "Sign in" }
            }
        },
    ))
    .into_response()
}

fn signed_in(token: &str, secure: bool, to: &str) -> Response {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, to)
        .header(header::SET_COOKIE, session_cookie(token, secure))
        .finish()
}

#[handler]
pub async fn setup_page(state: Data<&AppState>) -> Response {
    match state.store.count_users().await {
        Ok(0) => setup_form(None, ""),
        _ => Redirect::see_other("/login").into_response(),
    }
}

#[handler]
pub async fn setup_submit(
    state: Data<&AppState>,
    req: &Request,
    Form(form): Form<SetupForm>,
) -> Response {
    let client = client_of(req);
    let now = crate::clock::now();
    let username = form.username.trim();
    let created = setup::create_owner(
        &state.store,
        state.auth.hasher(),
        Owner {
            setup_token: &form.setup_token,
            username,
            password: &form.password,
            email: form
                .email
                .as_deref()
                .map(str::trim)
                .filter(|e| !e.is_empty()),
            workspace: None,
        },
        &client.addr,
        now,
    )
    .await;
    match created {
        Ok(_) => match state
            .auth
            .login(username, &form.password, &client, now)
            .await
        {
            Ok(done) => signed_in(&done.token, state.secure_cookies, "/"),
            Err(_) => Redirect::see_other("/login").into_response(),
        },
        Err(
            err @ (AuthError::Forbidden(_) | AuthError::Invalid(_) | AuthError::WeakPassword(_)),
        ) => setup_form(Some(&err.to_string()), username)
            .with_status(StatusCode::UNPROCESSABLE_ENTITY)
            .into_response(),
        Err(err) => {
            tracing::error!(error = %err, "setup failed");
            setup_form(
                Some("setup failed; the server log has the details"),
                username,
            )
            .with_status(StatusCode::INTERNAL_SERVER_ERROR)
            .into_response()
        }
    }
}

#[handler]
pub async fn login_page(state: Data<&AppState>, Query(next): Query<Next>) -> Response {
    if matches!(state.store.count_users().await, Ok(0)) {
        return Redirect::see_other("/setup").into_response();
    }
    login_form(None, "", &local_path(next.next.as_deref()))
}

#[handler]
pub async fn login_submit(
    state: Data<&AppState>,
    req: &Request,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = local_path(form.next.as_deref());
    let username = form.username.trim();
    match state
        .auth
        .login(
            username,
            &form.password,
            &client_of(req),
            crate::clock::now(),
        )
        .await
    {
        Ok(done) => signed_in(&done.token, state.secure_cookies, &next),
        Err(err @ AuthError::InvalidCredentials) => {
            login_form(Some(&err.to_string()), username, &next)
                .with_status(StatusCode::UNAUTHORIZED)
                .into_response()
        }
        Err(err @ AuthError::LockedOut { .. }) => {
            login_form(Some(&err.to_string()), username, &next)
                .with_status(StatusCode::TOO_MANY_REQUESTS)
                .into_response()
        }
        Err(err) => {
            tracing::error!(error = %err, "sign-in failed");
            login_form(
                Some("sign-in failed; the server log has the details"),
                username,
                &next,
            )
            .with_status(StatusCode::INTERNAL_SERVER_ERROR)
            .into_response()
        }
    }
}

#[handler]
pub async fn logout(state: Data<&AppState>, req: &Request) -> Response {
    if let Some(MaybeCaller(Some(caller))) = req.extensions().get::<MaybeCaller>()
        && let Err(err) = state
            .auth
            .logout(caller, &client_of(req), crate::clock::now())
            .await
    {
        tracing::error!(error = %err, "sign-out failed");
    }
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, "/login")
        .header(header::SET_COOKIE, cleared_cookie(state.secure_cookies))
        .finish()
}
