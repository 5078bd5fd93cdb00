//! The UI as a person sees it: headless Chromium renders the shell, its
//! screenshots are kept under the test output directory, and the pixels and
//! DOM are checked (stylesheet applied, script run, no policy violations).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::fakes::webdriver::Browser;
use crate::support::{PASSWORD, Server};

const CHROMIUM: &str = "/usr/bin/chromium";

fn output_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

/// Runs headless Chromium with a fresh profile; returns (stdout, stderr).
fn chromium(args: &[&str]) -> (String, String) {
    assert!(
        Path::new(CHROMIUM).exists(),
        "Chromium is needed for the UI tests: apt-get install chromium (scripts/test does this)"
    );
    let profile = tempfile::tempdir().expect("profile");
    let output = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .output()
        .expect("run chromium");
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn assert_no_policy_violations(stderr: &str) {
    for line in stderr.lines() {
        assert!(
            !line.contains("Content Security Policy") && !line.contains("Refused to"),
            "the page broke its security policy: {line}"
        );
    }
}

struct Shot {
    width: u32,
    height: u32,
    rgba: Vec<u8>,
}

impl Shot {
    /// Keeps the PNG under the test output directory and decodes it.
    fn keep(name: &str, png: &[u8]) -> Shot {
        std::fs::write(output_dir().join(name), png).expect("write screenshot");
        let mut decoder = png::Decoder::new(std::io::Cursor::new(png));
        decoder.set_transformations(png::Transformations::normalize_to_color8());
        let mut reader = decoder.read_info().expect("png header");
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).expect("png frame");
        let channels = info.color_type.samples();
        let rgba = buf[..info.buffer_size()]
            .chunks(channels)
            .flat_map(|px| [px[0], px[1], px[2], 255])
            .collect();
        Shot {
            width: info.width,
            height: info.height,
            rgba,
        }
    }

    fn pixel(&self, x: u32, y: u32) -> [u8; 3] {
        let i = ((y * self.width + x) * 4) as usize;
        [self.rgba[i], self.rgba[i + 1], self.rgba[i + 2]]
    }
}

/// Keeps a screenshot under the test output directory, for other areas'
/// browser tests.
pub(crate) fn keep_screenshot(name: &str, png: &[u8]) {
    Shot::keep(name, png);
}

fn close(actual: [u8; 3], expected: [u8; 3]) -> bool {
    actual
        .iter()
        .zip(expected)
        .all(|(a, e)| (i16::from(*a) - i16::from(e)).abs() <= 3)
}

pub(crate) fn assert_clean_console(messages: &[String]) {
    for m in messages {
        assert!(
            !m.contains("Content Security Policy") && !m.contains("Refused to"),
            "policy violation: {m}"
        );
    }
}

pub(crate) async fn sign_in(browser: &Browser, server: &Server) {
    browser.goto(&server.at("/login")).await;
    browser.type_into("input[name=username]", "owner").await;
    browser.type_into("input[name=password]", PASSWORD).await;
    browser.click("button[type=submit]").await;
    browser.wait_until("location.pathname === '/'").await;
    assert_eq!(
        browser.url().await,
        server.url,
        "signed in, on the dashboard"
    );
}

#[tokio::test]
async fn a_person_sets_up_signs_in_and_sees_the_shell_in_light_dark_and_phone_layouts() {
    let server = Server::start();

    // First run, as a person: the URL leads to setup, which signs them in.
    let light = Browser::start(1280, 800, false).await;
    light.goto(&server.url).await;
    assert_eq!(light.url().await, server.at("/setup"));
    light
        .type_into("input[name=setup_token]", &server.setup_token())
        .await;
    light.type_into("input[name=username]", "owner").await;
    light.type_into("input[name=password]", PASSWORD).await;
    light.click("button[type=submit]").await;
    light.wait_until("location.pathname === '/'").await;
    let body = light.script("return document.body.innerText").await;
    assert_eq!(light.url().await, server.url, "{body}");
    assert_eq!(
        light
            .script("return document.querySelector('h1').textContent")
            .await,
        "Dashboard"
    );
    assert_eq!(
        light
            .script("return document.documentElement.className")
            .await,
        "js",
        "app.js ran under the CSP"
    );
    let shot = Shot::keep("dashboard-light.png", &light.screenshot().await);
    assert_eq!(shot.width, 1280);
    // The top bar and page background come from the embedded stylesheet.
    assert!(
        close(shot.pixel(640, 6), [0x1c, 0x23, 0x30]),
        "top bar {:?}",
        shot.pixel(640, 6)
    );
    assert!(
        close(shot.pixel(1276, shot.height / 2), [0xf6, 0xf7, 0xf9]),
        "page {:?}",
        shot.pixel(1276, shot.height / 2)
    );
    assert_clean_console(&light.console().await);
    light.quit().await;

    let dark = Browser::start(1280, 800, true).await;
    sign_in(&dark, &server).await;
    let shot = Shot::keep("dashboard-dark.png", &dark.screenshot().await);
    assert!(
        close(shot.pixel(1276, shot.height / 2), [0x11, 0x15, 0x1c]),
        "dark page {:?}",
        shot.pixel(1276, shot.height / 2)
    );
    assert_clean_console(&dark.console().await);
    dark.quit().await;

    let phone = Browser::start(390, 844, false).await;
    sign_in(&phone, &server).await;
    Shot::keep("dashboard-phone.png", &phone.screenshot().await);
    let sidebar = phone
        .script("return getComputedStyle(document.querySelector('.sidebar')).display")
        .await;
    assert_eq!(
        sidebar, "none",
        "on a phone the sidebar folds into the menu"
    );
    phone.click("details.menu summary").await;
    let menu_links = phone
        .script("return document.querySelectorAll('details.menu[open] nav a').length")
        .await;
    assert_eq!(
        menu_links, 9,
        "every section, the account page and (for an owner) the audit log"
    );
    Shot::keep("dashboard-phone-menu.png", &phone.screenshot().await);
    assert_clean_console(&phone.console().await);
    phone.quit().await;
}

#[test]
fn the_setup_page_runs_its_script_under_the_strict_policy() {
    let server = Server::start();
    let setup = server.at("/setup");
    let (dom, stderr) = chromium(&["--virtual-time-budget=3000", "--dump-dom", &setup]);
    assert_no_policy_violations(&stderr);
    // app.js swaps `no-js` for `js` and reveals the theme toggle.
    assert!(dom.contains("<html lang=\"en\" class=\"js\""), "{dom}");
    assert!(
        dom.contains("<button class=\"theme-toggle\" type=\"button\" aria-label"),
        "{dom}"
    );
    assert!(dom.contains("Create owner account"), "{dom}");
}

#[test]
fn the_api_docs_render_in_a_browser() {
    let server = Server::start();
    let docs = server.at("/api/docs/");
    let (dom, stderr) = chromium(&["--virtual-time-budget=5000", "--dump-dom", &docs]);
    assert_no_policy_violations(&stderr);
    assert!(dom.contains("swagger-ui"), "{dom}");
    assert!(
        dom.contains("get_status") || dom.contains("/status"),
        "{dom}"
    );
}

#[tokio::test]
async fn a_person_imports_a_file_and_reads_the_report_in_a_browser() {
    let server = Server::start();
    server.owner().await;
    let file = output_dir().join("history-for-browser.csv");
    std::fs::write(
        &file,
        "timestamp,type,account,btc,fiat_value,fiat_currency,fee_fiat\n\
         2020-01-01T12:00:00Z,buy,exchange,1,10000,USD,10\n\
         2020-06-01T12:00:00Z,buy,exchange,1,20000,USD,\n\
         2021-03-01T12:00:00Z,sell,exchange,1.5,45000,USD,15\n",
    )
    .expect("write");
    let browser = Browser::start(1280, 900, false).await;
    sign_in(&browser, &server).await;
    browser.goto(&server.at("/imports")).await;
    browser
        .type_into("input[name=file]", file.to_str().expect("utf-8"))
        .await;
    browser
        .click("form[action='/imports/preview'] button[type=submit]")
        .await;
    assert!(
        browser
            .wait_until("document.querySelector(\"form[action='/imports/commit']\")")
            .await,
        "the preview page"
    );
    let preview = browser
        .script("return document.querySelector('main h2').textContent")
        .await;
    assert_eq!(preview, "history-for-browser.csv: 3 rows");
    Shot::keep("import-preview.png", &browser.screenshot().await);
    browser
        .click("form[action='/imports/commit'] button[type=submit]")
        .await;
    assert!(
        browser
            .wait_until("document.querySelector('.notice')")
            .await,
        "back on the Imports page"
    );
    let notice = browser
        .script("return document.querySelector('.notice').textContent")
        .await;
    assert_eq!(notice, "Imported 3 new rows; 0 were already present.");
    browser
        .goto(&server.at("/reports?jurisdiction=us&basis=universal"))
        .await;
    let table = browser
        .script("return document.querySelector('table').innerText")
        .await;
    assert!(
        table.as_str().expect("text").contains("24975.00"),
        "{table}"
    );
    Shot::keep("reports.png", &browser.screenshot().await);
    assert_clean_console(&browser.console().await);
    browser.quit().await;
}

#[tokio::test]
async fn a_person_reads_the_same_upload_with_another_format_in_a_browser() {
    let server = Server::start();
    server.owner().await;
    let file = output_dir().join("strike-for-browser.csv");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/strike.csv"),
        &file,
    )
    .expect("copy");
    let browser = Browser::start(1280, 900, false).await;
    sign_in(&browser, &server).await;
    browser.goto(&server.at("/imports")).await;
    browser
        .type_into("input[name=file]", file.to_str().expect("utf-8"))
        .await;
    // The wrong format first: the file is refused but kept.
    browser
        .script(
            "document.querySelector(\"form[action='/imports/preview'] select\").value = 'kraken-trades'; return true",
        )
        .await;
    browser
        .click("form[action='/imports/preview'] button[type=submit]")
        .await;
    assert!(
        browser
            .wait_until("document.querySelector(\"form[action='/imports/recheck']\")")
            .await,
        "the refusal offers another format"
    );
    let problems = browser
        .script("return document.querySelector('ul.problems').textContent")
        .await;
    assert!(
        problems.as_str().expect("text").starts_with("Line 1: "),
        "{problems}"
    );
    browser
        .script(
            "document.querySelector(\"form[action='/imports/recheck'] select\").value = 'strike'; return true",
        )
        .await;
    browser
        .click("form[action='/imports/recheck'] button[type=submit]")
        .await;
    assert!(
        browser
            .wait_until("document.querySelector(\"form[action='/imports/commit']\")")
            .await,
        "the preview of the same upload"
    );
    let preview = browser
        .script("return document.querySelector('main h2').textContent")
        .await;
    assert_eq!(preview, "strike-for-browser.csv: 9 rows");
    Shot::keep("import-recheck.png", &browser.screenshot().await);
    browser
        .click("form[action='/imports/commit'] button[type=submit]")
        .await;
    assert!(
        browser
            .wait_until("document.querySelector('.notice')")
            .await,
        "back on the Imports page"
    );
    let notice = browser
        .script("return document.querySelector('.notice').textContent")
        .await;
    assert_eq!(notice, "Imported 9 new rows; 0 were already present.");
    assert_clean_console(&browser.console().await);
    browser.quit().await;
}

#[tokio::test]
async fn a_person_explains_an_unknown_deposit_and_undoes_it_in_a_browser() {
    let server = Server::start();
    let owner = server.owner().await;
    let file = "timestamp,type,account,btc,fiat_value,fiat_currency\n\
        2020-01-01T12:00:00Z,buy,exchange,1,10000,USD\n\
        2020-04-01T12:00:00Z,deposit,cold,0.1,,\n";
    owner.import_csv(file).await;
    let browser = Browser::start(1280, 900, false).await;
    sign_in(&browser, &server).await;
    browser.goto(&server.at("/review")).await;
    let heading = "return document.querySelector('#queue h2').textContent";
    assert_eq!(browser.script(heading).await, "Needs review: 1");
    browser
        .script("document.querySelector(\"li[data-row='2'] select[name=kind]\").value = 'income'")
        .await;
    browser
        .type_into("li[data-row='2'] input[name=fiat_value]", "900")
        .await;
    browser
        .type_into("li[data-row='2'] input[name=currency]", "usd")
        .await;
    Shot::keep("review.png", &browser.screenshot().await);
    browser
        .click("li[data-row='2'] form:last-of-type button[type=submit]")
        .await;
    assert!(
        browser.wait_until("location.search === '?done=1'").await,
        "back on the review page"
    );
    assert_eq!(browser.script(heading).await, "Needs review: 0");
    browser.goto(&server.at("/reports?jurisdiction=us")).await;
    let table = browser
        .script("return document.querySelector('table').innerText")
        .await;
    assert!(table.as_str().expect("text").contains("900.00"), "{table}");

    // Undo: the deposit is back in review, and the history says who undid it.
    browser.goto(&server.at("/review")).await;
    browser
        .click("#history li.decision form button[type=submit]")
        .await;
    assert!(
        browser.wait_until("location.search === '?undone=1'").await,
        "undone"
    );
    assert_eq!(browser.script(heading).await, "Needs review: 1");
    let history = browser
        .script("return document.querySelector('#history li.decision').textContent")
        .await;
    assert!(
        history.as_str().expect("text").contains("undone by owner"),
        "{history}"
    );
    assert_clean_console(&browser.console().await);
    browser.quit().await;
}

#[tokio::test]
async fn on_a_phone_a_person_counts_a_doubtful_copy_once() {
    let server = Server::start();
    let owner = server.owner().await;
    // One sale from the API (with its id) and two copies from files
    // without ids that both fit it: neither is dropped until decided.
    let file = "id,timestamp,type,account,btc,fiat_value,fiat_currency\n\
        buy-1,2024-01-01T10:00:00Z,buy,Exchange,1,40000,USD\n\
        sale-1,2024-02-01T10:00:30Z,sell,Exchange,0.1,4500,USD\n\
        ,2024-02-01T10:00:00Z,sell,Exchange,0.1,4500,USD\n\
        ,2024-02-01T10:01:00Z,sell,Exchange,0.1,4500,USD\n";
    owner.import_csv(file).await;
    let browser = Browser::phone(360, 780).await;
    sign_in(&browser, &server).await;
    browser.goto(&server.at("/review")).await;
    let heading = "return document.querySelector('#queue h2').textContent";
    assert_eq!(browser.script(heading).await, "Needs review: 2");
    let overflow =
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth";
    assert_eq!(
        browser.script(overflow).await,
        0,
        "the page fits a phone's width"
    );
    Shot::keep("review-copy-phone.png", &browser.screenshot().await);
    browser
        .click("li[data-row='3'] form:first-of-type button[type=submit]")
        .await;
    assert!(
        browser.wait_until("location.search === '?done=1'").await,
        "back on the review page"
    );
    // One copy counted once; the other still fits the same sale, so it
    // stays queued until the person says what it is.
    let copies = "return document.querySelector('#copies h2').textContent";
    assert_eq!(browser.script(copies).await, "Counted once: 1");
    assert_eq!(browser.script(heading).await, "Needs review: 1");
    browser
        .click("li[data-row='4'] form:last-of-type button[type=submit]")
        .await;
    assert!(
        browser.wait_until("location.search === '?done=1'").await,
        "back again"
    );
    assert_eq!(browser.script(heading).await, "Needs review: 0");
    Shot::keep("review-decided-phone.png", &browser.screenshot().await);
    let wide = "return [...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1).map(e => e.tagName + '.' + e.className + ' ' + (e.closest('section') || {}).id).slice(0, 5).join(', ')";
    assert_eq!(
        browser.script(overflow).await,
        0,
        "the decided page fits too: {}",
        browser.script(wide).await
    );
    assert_clean_console(&browser.console().await);
    browser.quit().await;
}

/// Controls a person cannot name: a visible input or select with no label
/// around it, no `<label for>` and no `aria-label`, or a button without
/// text.
const UNLABELLED: &str = "return [...document.querySelectorAll('main input:not([type=hidden]), main select, main button')]\
    .filter(e => e.tagName === 'BUTTON' ? !e.textContent.trim() : !(e.closest('label') || e.getAttribute('aria-label') || (e.id && document.querySelector('label[for=\"' + e.id + '\"]'))))\
    .map(e => e.outerHTML.slice(0, 80))";

#[tokio::test]
async fn the_pages_this_change_touched_fit_a_phone_and_a_desktop_with_every_control_named() {
    let server = Server::start();
    let owner = server.owner().await;
    owner
        .import_csv(
            "id,timestamp,type,account,btc,fiat_value,fiat_currency\n\
             sale-1,2024-02-01T10:00:30Z,sell,Exchange,0.1,4500,USD\n\
             buy-1,2024-01-01T10:00:00Z,buy,Exchange,1,40000,USD\n\
             ,2024-01-01T10:00:20Z,buy,Exchange,1,40000,USD\n\
             ,2024-02-01T10:00:00Z,sell,Exchange,0.1,4500,USD\n\
             ,2024-02-01T10:01:00Z,sell,Exchange,0.1,4500,USD\n",
        )
        .await;
    let overflow =
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth";
    for (width, height) in [(360, 780), (1280, 900)] {
        let browser = if width < 600 {
            Browser::phone(width, height).await
        } else {
            Browser::start(width, height, false).await
        };
        sign_in(&browser, &server).await;
        for (page, path) in [
            ("review", "/review"),
            ("imports", "/imports?added=3&present=0&once=1"),
            ("exchanges", "/exchanges"),
        ] {
            browser.goto(&server.at(path)).await;
            Shot::keep(&format!("{page}-{width}.png"), &browser.screenshot().await);
            let wide = "return [...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1).map(e => e.tagName + '.' + e.className).slice(0, 6).join(', ')";
            assert_eq!(
                browser.script(overflow).await,
                0,
                "{page} at {width} px: {}",
                browser.script(wide).await
            );
            assert_eq!(
                browser.script(UNLABELLED).await,
                serde_json::json!([]),
                "{page} at {width} px"
            );
        }
        browser
            .goto(&server.at("/imports?added=3&present=0&once=1"))
            .await;
        let imports = browser
            .script("return document.querySelector('main .notice').textContent")
            .await;
        assert!(
            imports
                .as_str()
                .is_some_and(|t| t.contains("One of them is an entry already in the books")),
            "{imports}"
        );
        assert_clean_console(&browser.console().await);
        browser.quit().await;
    }
}
