//! The UI as a person sees it: headless Chromium renders the shell, its
//! screenshots are kept under the test output directory, and the pixels and
//! DOM are checked (stylesheet applied, script run, no policy violations).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::Server;

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
    fn take(url: &str, name: &str, size: &str, extra: &[&str]) -> Shot {
        let path = output_dir().join(name);
        let _ = std::fs::remove_file(&path);
        let mut args = vec![
            format!("--window-size={size}"),
            format!("--screenshot={}", path.display()),
            "--virtual-time-budget=3000".to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        args.push(url.to_string());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (_, stderr) = chromium(&args);
        assert_no_policy_violations(&stderr);
        let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{name}: {e}\n{stderr}"));
        let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
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

fn close(actual: [u8; 3], expected: [u8; 3]) -> bool {
    actual
        .iter()
        .zip(expected)
        .all(|(a, e)| (i16::from(*a) - i16::from(e)).abs() <= 3)
}

#[test]
fn the_shell_renders_in_light_dark_and_phone_layouts() {
    let server = Server::start();

    let light = Shot::take(&server.url, "dashboard-light.png", "1280,800", &[]);
    assert_eq!((light.width, light.height), (1280, 800));
    // The top bar and page background come from the embedded stylesheet.
    assert!(
        close(light.pixel(640, 8), [0x1c, 0x23, 0x30]),
        "top bar {:?}",
        light.pixel(640, 8)
    );
    assert!(
        close(light.pixel(1276, 400), [0xf6, 0xf7, 0xf9]),
        "page {:?}",
        light.pixel(1276, 400)
    );

    let dark = Shot::take(
        &server.url,
        "dashboard-dark.png",
        "1280,800",
        &[
            "--force-dark-mode",
            "--blink-settings=preferredColorScheme=0",
        ],
    );
    assert!(
        close(dark.pixel(1276, 400), [0x11, 0x15, 0x1c]),
        "dark page {:?}",
        dark.pixel(1276, 400)
    );

    let phone = Shot::take(&server.url, "dashboard-phone.png", "390,844", &[]);
    assert_eq!(phone.width, 390);
    // On a phone the sidebar folds away: the left edge below the bar is page
    // background, not navigation.
    assert!(
        close(phone.pixel(4, 300), [0xf6, 0xf7, 0xf9]),
        "phone {:?}",
        phone.pixel(4, 300)
    );
}

#[test]
fn the_script_runs_under_the_strict_policy() {
    let server = Server::start();
    let settings = server.at("/settings");
    let (dom, stderr) = chromium(&["--virtual-time-budget=3000", "--dump-dom", &settings]);
    assert_no_policy_violations(&stderr);
    // app.js swaps `no-js` for `js` and reveals the theme toggle.
    assert!(dom.contains("<html lang=\"en\" class=\"js\""), "{dom}");
    assert!(
        dom.contains("<button class=\"theme-toggle\" type=\"button\" aria-label"),
        "{dom}"
    );
    assert!(dom.contains("Database schema"), "{dom}");
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
