//! Start-up benchmark: binary size, and the time from spawning
//! `ledgersys serve` to its first successful `/readyz`, on an empty data
//! directory (database created and migrated) and on an existing one.
//!
//! Run: `cargo bench --bench startup` (release profile). Prints its figures;
//! the latest are recorded in docs/benchmarks.md.
#![allow(clippy::print_stdout)] // a benchmark reports on standard output

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BUILT: &str = env!("CARGO_BIN_EXE_ledgersys");

/// The binary under test: the one cargo built, or `BENCH_BINARY`
/// (a static build from `scripts/dist`, to compare allocators and sizes).
fn bin() -> String {
    std::env::var("BENCH_BINARY").unwrap_or_else(|_| BUILT.to_string())
}
const RUNS: usize = 30;

fn main() {
    let size = std::fs::metadata(bin()).expect("binary").len();
    println!("binary: {}", bin());
    println!("binary size: {:.1} MB ({size} bytes)", size as f64 / 1e6);

    let root = std::env::temp_dir().join(format!("ledgersys-bench-{}", std::process::id()));
    let mut fresh = Vec::new();
    let mut existing = Vec::new();
    for run in 0..RUNS {
        let dir = root.join(format!("run-{run}"));
        fresh.push(time_to_ready(&dir));
        existing.push(time_to_ready(&dir));
    }
    let _ = std::fs::remove_dir_all(&root);
    report("ready, empty data directory", &mut fresh);
    report("ready, existing database", &mut existing);
}

fn report(label: &str, samples: &mut [Duration]) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{label}: min {:.1} ms, median {:.1} ms, p95 {:.1} ms, max {:.1} ms ({} runs)",
        ms(samples[0]),
        ms(samples[samples.len() / 2]),
        ms(samples[samples.len() * 95 / 100]),
        ms(samples[samples.len() - 1]),
        samples.len()
    );
}

/// Spawns the server, waits for the URL line and a 200 from `/readyz`,
/// then stops it with SIGTERM.
fn time_to_ready(data_dir: &Path) -> Duration {
    let start = Instant::now();
    let mut child = Command::new(bin())
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--log-level", "warn", "serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut url = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut url)
        .expect("url line");
    let addr = url
        .trim()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    while !ready(&addr) {
        std::thread::sleep(Duration::from_millis(1));
    }
    let elapsed = start.elapsed();
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    elapsed
}

fn ready(addr: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect(addr) else {
        return false;
    };
    let request = format!("GET /readyz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200")
}
