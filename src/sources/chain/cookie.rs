//! Bitcoin Core's cookie file, read only where and as Bitcoin Core writes
//! it. Whoever sets the chain source names the file, and its content is sent
//! as HTTP Basic credentials to the RPC URL they also name: a path to
//! `/etc/passwd` or `/proc/self/environ` (which holds `LEDGERSYS_SECRET_KEY`
//! when the key comes from the environment) would otherwise send that file
//! anywhere. So a cookie file is used only when
//! - it lies, symlinks resolved, under one of the directories of
//!   `chain.cookie_dir` (the usual Bitcoin data directories by default),
//! - it is a small regular file, and
//! - it reads exactly like Bitcoin Core's: `__cookie__:` and hex.
//!
//! Every refusal is the same sentence, so the answer says nothing about
//! which files exist or what they hold.

use std::io::Read;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

/// Bitcoin Core writes `__cookie__:` and 64 hex digits; a little slack.
const MAX_BYTES: u64 = 256;
const USER: &str = "__cookie__";

/// The one answer to any cookie file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "cannot use this file as Bitcoin Core's cookie: give the .cookie file Bitcoin Core wrote in its data directory, under one of the directories of chain.cookie_dir ({dirs})"
)]
pub struct Refused {
    dirs: String,
}

/// The directories cookie files may come from when `chain.cookie_dir` is
/// not set: Bitcoin Core's default data directory for the user running
/// Ledgersys, the usual service directories, and where the Umbrel and
/// StartOS packages mount the node's data.
pub fn default_dirs(home: Option<&Path>) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = home.map(|h| h.join(".bitcoin")).into_iter().collect();
    dirs.extend(
        [
            "/var/lib/bitcoind",
            "/var/lib/bitcoin",
            "/home/bitcoin/.bitcoin",
            "/bitcoin",
            "/mnt/bitcoind",
        ]
        .map(PathBuf::from),
    );
    dirs
}

/// The canonical path of a usable cookie file; it is read to check it.
pub fn check(path: &Path, allowed: &[PathBuf]) -> Result<PathBuf, Refused> {
    let refused = || Refused {
        dirs: allowed
            .iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
    };
    let real = std::fs::canonicalize(path).map_err(|_| refused())?;
    let inside = allowed
        .iter()
        .filter_map(|dir| std::fs::canonicalize(dir).ok())
        .any(|dir| real.starts_with(dir));
    if !inside {
        return Err(refused());
    }
    read_at(&real).map_err(|()| refused())?;
    Ok(real)
}

/// Reads a cookie file checked when the source was set, again at a sync
/// (Bitcoin Core rewrites it at each start): the RPC user and password. The
/// stored path is canonical, so it must still be a file there itself, not a
/// link put in its place, and still read like a cookie.
pub fn read_again(path: &Path) -> Result<(String, Zeroizing<String>), Refused> {
    let refused = || Refused {
        dirs: "the directory it was set from".into(),
    };
    let real = std::fs::canonicalize(path).map_err(|_| refused())?;
    if real != path {
        return Err(refused());
    }
    let password = read_at(&real).map_err(|()| refused())?;
    Ok((USER.to_string(), password))
}

/// The password in a cookie file, when the file is one.
fn read_at(path: &Path) -> Result<Zeroizing<String>, ()> {
    let file = std::fs::File::open(path).map_err(|_| ())?;
    let meta = file.metadata().map_err(|_| ())?;
    if !meta.is_file() || meta.len() > MAX_BYTES {
        return Err(());
    }
    let mut text = Zeroizing::new(String::new());
    file.take(MAX_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|_| ())?;
    let line = text.strip_suffix('\n').unwrap_or(&text);
    let password = line
        .strip_prefix(USER)
        .and_then(|rest| rest.strip_prefix(':'))
        .ok_or(())?;
    let hex = password.len() >= 32 && password.bytes().all(|b| b.is_ascii_hexdigit());
    if !hex {
        return Err(());
    }
    Ok(Zeroizing::new(password.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str =
        "__cookie__:8a6f0c1e2d3b4a5968778695a4b3c2d1e0f1a2b3c4d5e6f708192a3b4c5d6e7f\n";

    fn dir_with(name: &str, content: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("temp");
        let path = dir.path().join(name);
        std::fs::write(&path, content).expect("write");
        (dir, path)
    }

    #[test]
    fn a_cookie_in_an_allowed_directory_is_read() {
        let (dir, path) = dir_with(".cookie", GOOD);
        let real = check(&path, &[dir.path().to_path_buf()]).expect("cookie");
        let (user, password) = read_again(&real).expect("again");
        assert_eq!(user, "__cookie__");
        assert_eq!(password.len(), 64);
    }

    #[test]
    fn every_refusal_is_the_same_answer() {
        let (allowed, _) = dir_with(".cookie", GOOD);
        let (other, outside) = dir_with(".cookie", GOOD);
        let allowed_dirs = [allowed.path().to_path_buf()];
        let (_, not_a_cookie) = dir_with("passwd", "root:x:0:0:root:/root:/bin/bash\n");
        let inside_not_cookie = allowed.path().join("notes");
        std::fs::write(&inside_not_cookie, "user:password\n").expect("write");
        let big = allowed.path().join("big");
        std::fs::write(&big, format!("__cookie__:{}\n", "a".repeat(400))).expect("write");
        let link = allowed.path().join("link");
        std::os::unix::fs::symlink(&outside, &link).expect("symlink");
        let dotdot = allowed
            .path()
            .join("..")
            .join(other.path().file_name().expect("name"))
            .join(".cookie");
        let cases = [
            PathBuf::from("/etc/passwd"),
            PathBuf::from("/proc/self/environ"),
            allowed.path().join("missing"),
            outside,
            not_a_cookie,
            inside_not_cookie,
            big,
            link,
            dotdot,
            allowed.path().to_path_buf(),
        ];
        let answers: Vec<String> = cases
            .iter()
            .map(|p| check(p, &allowed_dirs).expect_err("refused").to_string())
            .collect();
        assert!(answers.iter().all(|a| *a == answers[0]), "{answers:#?}");
        assert!(answers[0].contains("chain.cookie_dir"));
    }
}
