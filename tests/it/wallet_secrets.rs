//! Private material given to `wallet add` is refused whole: exit 2, a
//! message naming what was recognised, and afterwards neither the data
//! directory nor the output holds any of it.

use std::path::Path;
use std::process::Output;

use bip39::{Language, Mnemonic};
use bitcoin::bip32::{Xpriv, Xpub};
use bitcoin::secp256k1::{Secp256k1, SecretKey};
use bitcoin::{Network, NetworkKind, PrivateKey};
use hmac::{KeyInit, Mac};

use crate::support::{command, text};

fn cli(data: &Path, args: &[&str]) -> Output {
    command()
        .arg("--data-dir")
        .arg(data)
        .arg("--log-level")
        .arg("trace")
        .args(args)
        .output()
        .expect("run")
}

/// Twelve English words whose HMAC carries an Electrum seed version, and
/// which are not a valid BIP-39 phrase.
fn electrum_seed() -> String {
    let list = Language::English.word_list();
    // A linear congruential walk through the wordlist: every phrase differs.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    std::iter::repeat_with(move || {
        (0..12)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                list[(state >> 53) as usize]
            })
            .collect::<Vec<_>>()
            .join(" ")
    })
    .find(|phrase| {
        let mut mac =
            <hmac::Hmac<sha2::Sha512> as KeyInit>::new_from_slice(b"Seed version").expect("key");
        mac.update(phrase.as_bytes());
        hex::encode(mac.finalize().into_bytes()).starts_with("100")
            && Mnemonic::parse_in(Language::English, phrase.as_str()).is_err()
    })
    .expect("a seed")
}

/// Every file under `dir`, read whole.
pub(crate) fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                out.push((
                    path.display().to_string(),
                    std::fs::read(&path).expect("read"),
                ));
            }
        }
    }
    out
}

pub(crate) fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn every_form_of_private_material_is_refused_and_leaves_no_trace() {
    let dir = tempfile::tempdir().expect("temp");
    let data = dir.path().join("data");
    let inputs = dir.path().join("inputs");
    std::fs::create_dir_all(&inputs).expect("mkdir");

    let xprv = Xpriv::new_master(Network::Bitcoin, &[31u8; 32]).expect("master");
    let xpub = Xpub::from_priv(&Secp256k1::new(), &xprv);
    let mut zprv = xprv.encode();
    zprv[..4].copy_from_slice(&[0x04, 0xb2, 0x43, 0x0c]);
    let zprv = bitcoin::base58::encode_check(&zprv);
    let tprv = Xpriv::new_master(Network::Testnet, &[32u8; 32])
        .expect("master")
        .to_string();
    let secret = SecretKey::from_slice(&[33u8; 32]).expect("key");
    let wif = PrivateKey::new(secret, NetworkKind::Main).to_wif();
    let testnet_wif = PrivateKey::new_uncompressed(secret, NetworkKind::Test).to_wif();
    let english = Mnemonic::from_entropy(&[34u8; 16]).expect("m").to_string();
    let spanish = Mnemonic::from_entropy_in(Language::Spanish, &[35u8; 32])
        .expect("m")
        .to_string();
    let japanese = Mnemonic::from_entropy_in(Language::Japanese, &[36u8; 16])
        .expect("m")
        .to_string();
    let electrum = electrum_seed();

    // (flag, value or file content, what the message must name, the secret)
    let cases: Vec<(&str, String, &str, String)> = vec![
        (
            "--xpub",
            xprv.to_string(),
            "extended private key",
            xprv.to_string(),
        ),
        ("--xpub", zprv.clone(), "extended private key", zprv.clone()),
        ("--xpub", tprv.clone(), "extended private key", tprv.clone()),
        ("--xpub", wif.clone(), "WIF", wif.clone()),
        (
            "--descriptor",
            format!("wpkh([0f056943/84h/0h/0h]{xprv}/0/*)"),
            "descriptor containing an extended private key",
            xprv.to_string(),
        ),
        (
            "--descriptor",
            format!("wsh(sortedmulti(2,{xpub}/0/*,{tprv}/0/*))"),
            "descriptor containing an extended private key",
            tprv.clone(),
        ),
        (
            "--descriptor",
            format!("pkh({testnet_wif})"),
            "descriptor containing a WIF",
            testnet_wif.clone(),
        ),
        (
            "--file",
            format!("{{\"label\": \"Cold\", \"mnemonic\": \"{english}\"}}"),
            "BIP-39 seed phrase (English)",
            english.clone(),
        ),
        (
            "--file",
            spanish.clone(),
            "BIP-39 seed phrase (Spanish)",
            spanish.clone(),
        ),
        (
            "--file",
            japanese.clone(),
            "BIP-39 seed phrase (Japanese)",
            japanese.clone(),
        ),
        (
            "--file",
            electrum.clone(),
            "Electrum seed",
            electrum.clone(),
        ),
        (
            "--addresses",
            format!("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq\n{wif}\n"),
            "WIF",
            wif.clone(),
        ),
    ];

    let mut outputs = Vec::new();
    for (i, (flag, value, named, _)) in cases.iter().enumerate() {
        let arg = if matches!(*flag, "--file" | "--addresses") {
            let path = inputs.join(format!("input-{i}"));
            std::fs::write(&path, value).expect("write");
            path.display().to_string()
        } else {
            value.clone()
        };
        let output = cli(
            &data,
            &["wallet", "add", "--name", &format!("w{i}"), flag, &arg],
        );
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "case {i}: {stderr}");
        assert!(stderr.contains(named), "case {i}: {stderr}");
        assert!(
            stderr.contains("never takes private keys"),
            "case {i}: {stderr}"
        );
        outputs.push(output);
    }

    let listed = cli(&data, &["wallet", "list", "--format", "json"]);
    assert_eq!(text(&listed.stdout).trim(), "[]");

    let stored = files(&data);
    assert!(!stored.is_empty(), "the data directory was created");
    for (_, _, _, secret) in &cases {
        // A secret's distinctive part: a phrase's first three words, or a
        // key's characters after its version prefix.
        let needles: Vec<String> = if secret.contains(' ') || secret.contains('\u{3000}') {
            let words: Vec<&str> = secret.split_whitespace().take(3).collect();
            vec![words.join(" "), words.join("\u{3000}")]
        } else {
            vec![secret[4..24].to_string()]
        };
        for needle in &needles {
            for (path, bytes) in &stored {
                assert!(!contains(bytes, needle), "{path} holds a refused secret");
            }
            for output in &outputs {
                assert!(!contains(&output.stdout, needle), "stdout echoes a secret");
                assert!(!contains(&output.stderr, needle), "stderr echoes a secret");
            }
        }
    }
}
