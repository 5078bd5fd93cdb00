//! `ledgersys admin ...`: account and key operations that work offline on
//! the data directory, for the person who runs the machine.

use std::io::{Read, Write};
use std::path::Path;

use crate::auth::{Hasher, Role, password, setup};
use crate::config::Config;
use crate::datadir::{self, DataDir};
use crate::store::users::NewUser;
use crate::store::{AuditEntry, Store};

/// Who the audit log names for these commands.
fn actor() -> String {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    format!("cli:{user}")
}

async fn open_store(config: &Config) -> Result<Store, String> {
    datadir::ensure(&config.data_dir).map_err(|e| e.to_string())?;
    Store::open_for_command(&config.data_dir)
        .await
        .map_err(|e| e.to_string())
}

/// Reads a password from a file, or from standard input for `-`; one
/// trailing newline is not part of it.
pub fn read_password_file(path: &Path) -> Result<String, String> {
    let mut text = String::new();
    if path == Path::new("-") {
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    } else {
        text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the password file {}: {e}", path.display()))?;
    }
    let text = text.strip_suffix('\n').unwrap_or(&text);
    let text = text.strip_suffix('\r').unwrap_or(text);
    Ok(text.to_string())
}

pub async fn setup_token(config: &Config, out: &mut impl Write) -> Result<(), String> {
    let store = open_store(config).await?;
    match setup::setup_token(&store).await.map_err(|e| e.to_string())? {
        Some(token) => writeln!(out, "{token}").map_err(|e| e.to_string()),
        None => Err("this instance already has an account; setup is done (use `admin reset-password` if locked out)".into()),
    }
}

pub struct CreateUser<'a> {
    pub username: &'a str,
    pub password: String,
    pub role: Role,
    pub workspace: &'a str,
    pub email: Option<&'a str>,
    pub instance_admin: bool,
}

pub async fn create_user(
    config: &Config,
    new: CreateUser<'_>,
    out: &mut impl Write,
) -> Result<(), String> {
    let store = open_store(config).await?;
    setup::validate_username(new.username).map_err(|e| e.to_string())?;
    password::check_strength(&new.password, &[new.username]).map_err(|e| e.to_string())?;
    let phc = Hasher::default()
        .hash(new.password)
        .await
        .map_err(|e| e.to_string())?;
    let now = crate::clock::now();
    let workspace = match store
        .workspace_by_name(new.workspace)
        .await
        .map_err(|e| e.to_string())?
    {
        Some(w) => w.id,
        None => {
            let audit =
                AuditEntry::new(now, None, actor(), "workspace.created").target(new.workspace);
            store
                .create_workspace(new.workspace, &audit)
                .await
                .map_err(|e| e.to_string())?
        }
    };
    let audit = AuditEntry::new(now, None, actor(), "user.created")
        .in_workspace(workspace)
        .target(new.username)
        .detail(format!("role {}", new.role));
    let id = store
        .create_user(
            NewUser {
                username: new.username,
                password_hash: &phc,
                email: new.email,
                instance_admin: new.instance_admin,
                now,
                membership: Some((workspace, new.role)),
            },
            &audit,
        )
        .await
        .map_err(|e| e.to_string())?;
    // The first account ends first-run setup, however it was made.
    store
        .delete_setting("setup_token")
        .await
        .map_err(|e| e.to_string())?;
    writeln!(
        out,
        "created user {} (id {id}) as {} of workspace {}",
        new.username, new.role, new.workspace
    )
    .map_err(|e| e.to_string())
}

pub async fn reset_password(
    config: &Config,
    username: &str,
    new_password: String,
    out: &mut impl Write,
) -> Result<(), String> {
    let store = open_store(config).await?;
    let user = store
        .user_by_name(username)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| {
            format!("there is no user {username:?} (see `ledgersys admin list-users`)")
        })?;
    password::check_strength(&new_password, &[&user.username]).map_err(|e| e.to_string())?;
    let phc = Hasher::default()
        .hash(new_password)
        .await
        .map_err(|e| e.to_string())?;
    let audit = AuditEntry::new(crate::clock::now(), None, actor(), "password.reset")
        .target(&user.username);
    // Offline recovery keeps the user's API tokens, as it always has; the
    // user (or an admin) revokes them from the account page.
    let (ended, _) = store
        .set_password(user.id, &phc, crate::clock::now(), false, &audit)
        .await
        .map_err(|e| e.to_string())?;
    writeln!(
        out,
        "password of {} reset; {ended} session(s) ended; lockout cleared",
        user.username
    )
    .map_err(|e| e.to_string())
}

pub async fn revoke_sessions(
    config: &Config,
    username: &str,
    out: &mut impl Write,
) -> Result<(), String> {
    let store = open_store(config).await?;
    let user = store
        .user_by_name(username)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("there is no user {username:?}"))?;
    let ended = store
        .delete_sessions_of(user.id)
        .await
        .map_err(|e| e.to_string())?;
    store
        .audit(
            &AuditEntry::new(crate::clock::now(), None, actor(), "sessions.revoked")
                .target(&user.username)
                .detail(format!("{ended} session(s)")),
        )
        .await
        .map_err(|e| e.to_string())?;
    writeln!(out, "{ended} session(s) of {} ended", user.username).map_err(|e| e.to_string())
}

pub async fn list_users(config: &Config, json: bool, out: &mut impl Write) -> Result<(), String> {
    let store = open_store(config).await?;
    let mut rows = Vec::new();
    for user in store.users().await.map_err(|e| e.to_string())? {
        let workspaces = store
            .workspaces_of(user.id)
            .await
            .map_err(|e| e.to_string())?;
        rows.push(serde_json::json!({
            "username": user.username,
            "email": user.email,
            "instance_admin": user.instance_admin,
            "created_at": crate::clock::rfc3339(user.created_at),
            "workspaces": workspaces.iter().map(|(w, r)| serde_json::json!({"workspace": w.name, "role": r})).collect::<Vec<_>>(),
        }));
    }
    let write =
        |out: &mut dyn Write, text: String| writeln!(out, "{text}").map_err(|e| e.to_string());
    if json {
        return write(out, serde_json::Value::Array(rows).to_string());
    }
    for row in rows {
        let roles: Vec<String> = row["workspaces"]
            .as_array()
            .map(|ws| {
                ws.iter()
                    .map(|w| {
                        format!(
                            "{}:{}",
                            w["workspace"].as_str().unwrap_or(""),
                            w["role"].as_str().unwrap_or("")
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let admin = if row["instance_admin"] == true {
            " (instance admin)"
        } else {
            ""
        };
        write(
            out,
            format!(
                "{}{admin}\t{}",
                row["username"].as_str().unwrap_or(""),
                roles.join(" ")
            ),
        )?;
    }
    Ok(())
}

/// Re-encrypts every stored secret under a new key. Refused while a server
/// runs on the data directory, since it holds the old key in memory.
pub async fn rotate_key(config: &Config, out: &mut impl Write) -> Result<(), String> {
    let dir = DataDir::open(&config.data_dir).map_err(|e| e.to_string())?;
    let store = Store::open(dir.path()).await.map_err(|e| e.to_string())?;
    let source = crate::crypto::keys::key_source(config, dir.path());
    let (old, new) = crate::crypto::keys::rotate(&store, &source, &actor(), crate::clock::now())
        .await
        .map_err(|e| e.to_string())?;
    store.close().await;
    writeln!(
        out,
        "secrets re-encrypted from key {old} to key {new}; back up the new key file ({source})"
    )
    .map_err(|e| e.to_string())
}
