//! The frame every page shares: head, navigation, footer.

use maud::{DOCTYPE, Markup, html};

use crate::http::assets;

/// The sections of the appliance, in navigation order: (path, label).
pub const SECTIONS: [(&str, &str); 6] = [
    ("/", "Dashboard"),
    ("/transactions", "Transactions"),
    ("/wallets", "Wallets & Accounts"),
    ("/imports", "Imports"),
    ("/reports", "Reports"),
    ("/settings", "Settings"),
];

/// A full page. `current` is the path of the active section, if any.
pub fn page(title: &str, current: Option<&str>, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" class="no-js" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { (title) " · Ledgersys" }
                link rel="icon" href=(assets::url("favicon.svg")) type="image/svg+xml";
                link rel="stylesheet" href=(assets::url("app.css"));
                script src=(assets::url("app.js")) defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.topbar {
                    a.brand href="/" {
                        img src=(assets::url("favicon.svg")) alt="" width="28" height="28";
                        span { "Ledgersys" }
                    }
                    button.theme-toggle type="button" hidden aria-label="Switch between light and dark theme" {
                        "Theme"
                    }
                    details.menu {
                        summary aria-label="Menu" { "Menu" }
                        (nav(current))
                    }
                }
                div.shell {
                    aside.sidebar { (nav(current)) }
                    main #main { (content) }
                }
                footer.footer {
                    "Ledgersys " (env!("CARGO_PKG_VERSION"))
                    " · watch-only, self-hosted · "
                    a href="/api/docs/" { "API" }
                }
            }
        }
    }
}

fn nav(current: Option<&str>) -> Markup {
    html! {
        nav aria-label="Main" {
            ul {
                @for (path, label) in SECTIONS {
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
