//! The command line as a user meets it.

use crate::support::{Server, command, run, text};

#[test]
fn help_lists_the_commands() {
    let output = run(&["--help"]);
    assert!(output.status.success());
    let help = text(&output.stdout);
    for word in [
        "serve",
        "config",
        "healthcheck",
        "--data-dir",
        "--config",
        "--log-format",
    ] {
        assert!(help.contains(word), "{word} missing from:\n{help}");
    }
}

#[test]
fn version_prints_the_package_version() {
    let output = run(&["--version"]);
    assert!(output.status.success());
    assert_eq!(
        text(&output.stdout).trim(),
        format!("ledgersys {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn config_check_explains_where_each_value_came_from() {
    let temp = tempfile::tempdir().expect("temp");
    let config = temp.path().join("ledgersys.toml");
    std::fs::write(&config, "[log]\nlevel = \"debug\"\n").expect("write");
    let output = command()
        .args(["--data-dir", "/srv/books", "config", "check"])
        .env("LEDGERSYS_CONFIG", &config)
        .env("LEDGERSYS_LISTEN", "0.0.0.0:9000")
        .output()
        .expect("run");
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        stdout.contains("data_dir = \"/srv/books\"  # flag --data-dir"),
        "{stdout}"
    );
    assert!(
        stdout
            .contains("server.listen = \"0.0.0.0:9000\"  # environment variable LEDGERSYS_LISTEN"),
        "{stdout}"
    );
    assert!(
        stdout.contains("log.level = \"debug\"  # config file"),
        "{stdout}"
    );
    assert!(
        stdout.contains("log.format = \"human\"  # default"),
        "{stdout}"
    );
}

#[test]
fn an_unknown_environment_variable_is_refused() {
    let output = command()
        .args(["config", "check"])
        .env("LEDGERSYS_DATADIR", "/tmp/x")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("unknown environment variable LEDGERSYS_DATADIR"));
}

#[test]
fn healthcheck_reports_a_running_server_and_a_missing_one() {
    let server = Server::start();
    let ok = command()
        .args(["healthcheck"])
        .env("LEDGERSYS_LISTEN", server.addr())
        .output()
        .expect("run");
    assert!(ok.status.success(), "{}", text(&ok.stderr));

    let free = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = free.local_addr().expect("addr").to_string();
    drop(free);
    let down = command()
        .args(["healthcheck"])
        .env("LEDGERSYS_LISTEN", &addr)
        .output()
        .expect("run");
    assert_eq!(down.status.code(), Some(1));
    assert!(text(&down.stderr).contains(&format!("cannot reach {addr}")));
}

#[test]
fn json_logs_are_one_object_per_line_on_standard_error() {
    let temp = tempfile::tempdir().expect("temp");
    let mut child = command()
        .arg("--data-dir")
        .arg(temp.path())
        .args(["--log-format", "json", "serve", "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut url = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut url).expect("url");
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    crate::support::signal(&child, "TERM");
    let output = child.wait_with_output().expect("wait");
    let logs = text(&output.stderr);
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(
        lines.iter().any(|l| l["message"] == "Ledgersys is ready"),
        "{logs}"
    );
}
