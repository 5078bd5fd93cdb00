//! Shipped migrations are never edited: their checksums are frozen here.
//! A new migration adds a line; changing an old one fails this test.

use ledgersys::store::MIGRATOR;

const FROZEN: &[(i64, &str, &str)] = &[
    (
        1,
        "instance",
        "4f3b3e750841262a2ad9b5dbd10b223deec55f31e671e1a2fcf92cbbdaaf1ea2b197f3e68089e9b42a1230f105e89fc5",
    ),
    (
        2,
        "accounts",
        "c9338c4ec9854732b16aa01d6f1b5ccfa764f5dc019e5fc09b1295c875a7266727e1f991251c261e93e4232fc420495d",
    ),
    (
        3,
        "transactions",
        "202368ad676cd81849cbcdcc4a0864fba664814d951b68d13808f6b633c9d747ccabd93fd20b9f6aca5f8d6f65d7add6",
    ),
    (
        4,
        "review",
        "00ffec5509f0ff0904a18615dafde31e217ba06393018ff3e6489771722185ad69a61e2361aa523235adc527dcfbcbdf",
    ),
    (
        6,
        "prices",
        "d0e70f4d57ce5eab9045d1f1ba71df61808aaa0dbc4fa7f928ce9c4fee0e0fbe9c787003e7ecef023d194d1cebce6751",
    ),
    (
        7,
        "wallets",
        "1eeb58e55534d08c3c26a81804526a3a86511c050f68a931ca74e72d0443ffeeb4c643d97bfc3615be5f4d4f668dbc3d",
    ),
    (
        8,
        "btcpay",
        "ca9108b9b1707c1338c737e26d96782b58aca54ba88e57ce6204252095f225afd89e27ea82ba2b604bdb9d4a88c7ba99",
    ),
    (
        9,
        "wallet sync",
        "d34a2c9e406f96702b05c88d17a8438f67e262cf96c964db4d13f548a2156369c1c38d10445b12a12c37485631c46968",
    ),
    (
        10,
        "btcpay manage",
        "ff0f57d3200971e9c2add4b2325b8426059803e93d9958d7ddd02978a484e8214c7b4674682a72b9b9a2666988a62e4a",
    ),
    (
        11,
        "token expiry invitations",
        "06d986d83a94f671d55f78f816613bbb447b69fc4cae6601b3b7b0f81381846e97a429f9d44dac40cda502078769ac2a",
    ),
    (
        12,
        "wallet names per workspace",
        "7d39264ba22969f97ab3198c5439aa31acf8e3a63a1c05fd3ffb172d518e6c090a55bb6a871da1748db740e1a03b590c",
    ),
    (
        13,
        "exchange connections",
        "2f6ca90fe088bda7c3842ed2f2090cf9f21bb1e7bb928436f38c77009257a21876ef86ab5e3ee44d1b983b1ea18be7fa",
    ),
    (
        14,
        "exchange sync state",
        "884908553979b21ad8c0a7806c6984a21ecaf456535493011729fc4e17fbbc3f1d25236bd567cb6716953f05c3da2c10",
    ),
    (
        15,
        "duplicate decisions",
        "cabcd2216f7a43c67f8abba32007172c04127160c325f9216db387fb581e4e505a624ccd7f6e7cc110302db95bba016c",
    ),
];

#[test]
fn shipped_migrations_are_unchanged() {
    let actual: Vec<(i64, String, String)> = MIGRATOR
        .iter()
        .map(|m| {
            (
                m.version,
                m.description.to_string(),
                hex::encode(&m.checksum),
            )
        })
        .collect();
    let frozen: Vec<(i64, String, String)> = FROZEN
        .iter()
        .map(|(v, d, c)| (*v, d.to_string(), c.to_string()))
        .collect();
    assert_eq!(actual, frozen);
}

/// Every `.rs` file under `src/`, with its text.
fn sources() -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("read");
                files.push((path.display().to_string(), text));
            }
        }
    }
    files
}

#[test]
fn sql_lives_in_the_store_and_is_never_built_from_strings() {
    let built = [
        "query(&",
        "query_as(&",
        "query_scalar(&",
        "format!(\"SELECT",
        "format!(\"INSERT",
        "format!(\"UPDATE",
        "format!(\"DELETE",
        "raw_sql(",
    ];
    for (path, text) in sources() {
        for needle in built {
            assert!(
                !text.contains(needle),
                "{path} builds SQL from a string ({needle}); bind parameters instead"
            );
        }
        let in_store = path.contains("/src/store/");
        if !in_store {
            assert!(
                !text.contains("sqlx::query"),
                "{path} runs SQL outside src/store"
            );
        }
    }
}
