//! The frame every page shares: head, navigation, account menu, footer.

use maud::{DOCTYPE, Markup, html};

use super::context::Ui;
use crate::auth::Role;
use crate::http::assets;

/// The sections of the appliance, in navigation order: (path, label).
pub const SECTIONS: [(&str, &str); 7] = [
    ("/", "Dashboard"),
    ("/transactions", "Transactions"),
    ("/review", "Review"),
    ("/wallets", "Wallets & Accounts"),
    ("/imports", "Imports"),
    ("/reports", "Reports"),
    ("/settings", "Settings"),
];

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="color-scheme" content="light dark";
            title { (title) " · Ledgersys" }
            link rel="icon" href=(assets::url("favicon.svg")) type="image/svg+xml";
            link rel="stylesheet" href=(assets::url("app.css"));
            script src=(assets::url("app.js")) defer {}
        }
    }
}

fn brand() -> Markup {
    html! {
        a.brand href="/" {
            img src=(assets::url("favicon.svg")) alt="" width="28" height="28";
            span { "Ledgersys" }
        }
    }
}

fn footer() -> Markup {
    html! {
        footer.footer {
            "Ledgersys " (env!("CARGO_PKG_VERSION"))
            " · watch-only, self-hosted · "
            a href="/api/docs/" { "API" }
        }
    }
}

/// A page for a signed-in person. `current` is the active section's path.
pub fn page(title: &str, current: Option<&str>, ui: &Ui, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" class="no-js" {
            (head(title))
            body {
                a.skip href="#main" { "Skip to content" }
                header.topbar {
                    (brand())
                    @if ui.workspaces.len() > 1 {
                        form.workspace method="post" action="/workspace" {
                            input type="hidden" name="csrf_token" value=(ui.csrf_token);
                            select name="workspace_id" aria-label="Workspace" {
                                @for (id, name, role) in &ui.workspaces {
                                    option value=(id) selected[ui.workspace.as_ref().is_some_and(|w| w.0 == *id)] {
                                        (name) " · " (role)
                                    }
                                }
                            }
                            button type="submit" { "Switch" }
                        }
                    } @else if let Some((_, name, role)) = &ui.workspace {
                        span.workspace title="Workspace and your role" { (name) " · " (role) }
                    }
                    a.alerts href="/account#alerts" title="Security alerts" {
                        "Alerts"
                        @if ui.unread_alerts > 0 { span.badge { (ui.unread_alerts) } }
                    }
                    button.theme-toggle type="button" hidden aria-label="Switch between light and dark theme" {
                        "Theme"
                    }
                    form.logout method="post" action="/logout" {
                        input type="hidden" name="csrf_token" value=(ui.csrf_token);
                        button type="submit" { "Sign out " (ui.username) }
                    }
                    details.menu {
                        summary aria-label="Menu" { "Menu" }
                        (nav(current, ui))
                    }
                }
                div.shell {
                    aside.sidebar { (nav(current, ui)) }
                    main #main { (content) }
                }
                (footer())
            }
        }
    }
}

/// A page for someone not signed in: setup, sign-in, errors.
pub fn bare(title: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" class="no-js" {
            (head(title))
            body {
                header.topbar {
                    (brand())
                    button.theme-toggle type="button" hidden aria-label="Switch between light and dark theme" {
                        "Theme"
                    }
                }
                main #main .narrow { (content) }
                (footer())
            }
        }
    }
}

/// A document meant for paper: no navigation, no theme, the app's
/// stylesheet with its print rules.
pub fn printable(title: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" class="no-js" {
            (head(title))
            body.printable {
                main #main .print-page { (content) }
            }
        }
    }
}

fn nav(current: Option<&str>, ui: &Ui) -> Markup {
    let mut items: Vec<(&str, &str)> = SECTIONS.to_vec();
    items.push(("/account", "Account"));
    if ui.can(Role::Admin) {
        items.push(("/audit", "Audit log"));
    }
    html! {
        nav aria-label="Main" {
            ul {
                @for (path, label) in items {
                    li {
                        @if current == Some(path) {
                            a href=(path) aria-current="page" { (label) }
                        } @else {
                            a href=(path) { (label) }
                        }
                    }
                }
            }
        }
    }
}
