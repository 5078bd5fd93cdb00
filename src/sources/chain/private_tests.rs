use bitcoin::bip32::Xpriv;
use bitcoin::{Network, NetworkKind, PrivateKey};
use proptest::prelude::*;

use bip39::Mnemonic;

use super::*;

fn master(network: Network) -> Xpriv {
    Xpriv::new_master(network, &[7u8; 32]).expect("master")
}

/// The same key under other version bytes, as SLIP-132 wallets write it.
fn with_version(xprv: &Xpriv, version: [u8; 4]) -> String {
    let mut bytes = xprv.encode();
    bytes[..4].copy_from_slice(&version);
    bitcoin::base58::encode_check(&bytes)
}

fn xpub_of(xprv: &Xpriv) -> String {
    let secp = bitcoin::secp256k1::Secp256k1::new();
    bitcoin::bip32::Xpub::from_priv(&secp, xprv).to_string()
}

#[test]
fn extended_private_keys_of_any_version_are_refused() {
    let key = master(Network::Bitcoin);
    let versions: [(&str, [u8; 4]); 8] = [
        ("yprv", [0x04, 0x9d, 0x78, 0x78]),
        ("zprv", [0x04, 0xb2, 0x43, 0x0c]),
        ("Yprv", [0x02, 0x95, 0xb0, 0x05]),
        ("Zprv", [0x02, 0xaa, 0x7a, 0x9a]),
        ("uprv", [0x04, 0x4a, 0x4e, 0x28]),
        ("vprv", [0x04, 0x5f, 0x18, 0xbc]),
        ("Vprv", [0x02, 0x57, 0x50, 0x48]),
        ("unknown", [0x12, 0x34, 0x56, 0x78]),
    ];
    assert!(key.to_string().starts_with("xprv"));
    assert_eq!(detect(&key.to_string()), Some(Private::ExtendedKey));
    let tprv = master(Network::Testnet).to_string();
    assert!(tprv.starts_with("tprv"));
    assert_eq!(detect(&tprv), Some(Private::ExtendedKey));
    for (prefix, version) in versions {
        let text = with_version(&key, version);
        if prefix != "unknown" {
            assert!(text.starts_with(prefix), "{prefix}");
        }
        assert_eq!(detect(&text), Some(Private::ExtendedKey), "{prefix}");
        assert_eq!(detect(&format!("  {text}\n")), Some(Private::ExtendedKey));
    }
}

#[test]
fn wif_keys_of_both_networks_and_forms_are_refused() {
    let secret = bitcoin::secp256k1::SecretKey::from_slice(&[9u8; 32]).expect("key");
    for network in [NetworkKind::Main, NetworkKind::Test] {
        for compressed in [true, false] {
            let key = PrivateKey {
                compressed,
                network,
                inner: secret,
            };
            let wif = key.to_wif();
            assert_eq!(detect(&wif), Some(Private::Wif), "{network:?} {compressed}");
        }
    }
}

#[test]
fn a_corrupted_wif_is_not_a_key_but_a_valid_one_glued_to_text_is() {
    let secret = bitcoin::secp256k1::SecretKey::from_slice(&[9u8; 32]).expect("key");
    let wif = PrivateKey::new(secret, NetworkKind::Main).to_wif();
    let mut broken = wif.clone().into_bytes();
    broken[10] = if broken[10] == b'a' { b'b' } else { b'a' };
    let broken = String::from_utf8(broken).expect("ascii");
    assert_eq!(detect(&broken), None);
    assert_eq!(detect(&format!("key{wif}")), Some(Private::Wif));
}

#[test]
fn a_key_inside_a_long_run_of_base58_text_is_found() {
    let xprv = master(Network::Bitcoin).to_string();
    for pad in [0usize, 150, 288, 289, 450, 2000] {
        let noise = "z".repeat(pad);
        let text = format!("{noise}{xprv}{noise}");
        assert_eq!(detect(&text), Some(Private::ExtendedKey), "pad {pad}");
    }
}

#[test]
fn public_keys_and_addresses_pass() {
    let key = master(Network::Bitcoin);
    let xpub = xpub_of(&key);
    assert_eq!(detect(&xpub), None);
    assert_eq!(detect(&format!("wpkh({xpub}/0/*)")), None);
    assert_eq!(detect(&xpub_of(&master(Network::Testnet))), None);
    let addresses = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq\n\
                     1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2\n\
                     3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy\n";
    assert_eq!(detect(addresses), None);
    assert_eq!(detect(""), None);
}

#[test]
fn descriptors_with_private_keys_are_refused() {
    let xprv = master(Network::Bitcoin).to_string();
    let secret = bitcoin::secp256k1::SecretKey::from_slice(&[9u8; 32]).expect("key");
    let wif = PrivateKey::new(secret, NetworkKind::Main).to_wif();
    let cases = [
        (
            format!("wpkh([d34db33f/84h/0h/0h]{xprv}/0/*)"),
            Secret::ExtendedKey,
        ),
        (
            format!("tr({xprv}/86'/0'/0'/0/*)#abcdefgh"),
            Secret::ExtendedKey,
        ),
        (format!("pkh({wif})"), Secret::Wif),
        (
            format!(
                "wsh(sortedmulti(2,{},{xprv}/0/*))",
                xpub_of(&master(Network::Bitcoin))
            ),
            Secret::ExtendedKey,
        ),
    ];
    for (descriptor, secret) in cases {
        assert_eq!(detect(&descriptor), Some(Private::Descriptor(secret)));
    }
}

#[test]
fn seed_phrases_in_every_language_are_refused() {
    for language in Language::ALL {
        for entropy in [&[3u8; 16][..], &[5u8; 32][..]] {
            let phrase = Mnemonic::from_entropy_in(*language, entropy)
                .expect("mnemonic")
                .to_string();
            let found = detect(&phrase);
            // One phrase in 256 is also a valid Electrum seed.
            assert!(
                matches!(found, Some(Private::SeedPhrase(_) | Private::ElectrumSeed)),
                "{language:?}: {found:?}"
            );
        }
    }
}

#[test]
fn seed_phrases_are_found_in_any_layout_and_case() {
    let phrase = Mnemonic::from_entropy_in(Language::English, &[1u8; 16])
        .expect("mnemonic")
        .to_string();
    let numbered: String = phrase
        .split(' ')
        .enumerate()
        .map(|(i, w)| format!("{}. {}\n", i + 1, w.to_uppercase()))
        .collect();
    assert_eq!(
        detect(&numbered),
        Some(Private::SeedPhrase(Language::English))
    );
    let json = format!("{{\"label\": \"cold\", \"mnemonic\": \"{phrase}\"}}");
    assert_eq!(detect(&json), Some(Private::SeedPhrase(Language::English)));
    // Eleven words are not a seed.
    let eleven: Vec<&str> = phrase.split(' ').take(11).collect();
    assert_eq!(detect(&eleven.join(" ")), None);
}

#[test]
fn chinese_phrases_without_spaces_are_refused() {
    let phrase = Mnemonic::from_entropy_in(Language::SimplifiedChinese, &[2u8; 16])
        .expect("mnemonic")
        .to_string()
        .replace(' ', "");
    assert!(matches!(
        detect(&phrase),
        Some(Private::SeedPhrase(
            Language::SimplifiedChinese | Language::TraditionalChinese
        ))
    ));
}

/// An Electrum seed is found by search: twelve English words whose HMAC
/// carries a seed version.
fn electrum_seed() -> String {
    let list = Language::English.word_list();
    // A linear congruential walk through the wordlist: every phrase differs.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
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
        is_electrum_seed(phrase) && Mnemonic::parse_in(Language::English, phrase).is_err()
    })
    .expect("some phrase is a seed")
}

#[test]
fn electrum_seeds_are_refused_and_named() {
    let seed = electrum_seed();
    assert_eq!(detect(&seed), Some(Private::ElectrumSeed));
    assert_eq!(detect(&seed.to_uppercase()), Some(Private::ElectrumSeed));
}

#[test]
fn the_refusal_names_the_kind_and_never_the_secret() {
    let xprv = master(Network::Bitcoin).to_string();
    let found = detect(&xprv).expect("found");
    let message = refusal(found);
    assert!(message.contains("extended private key"), "{message}");
    assert!(message.contains("never takes private keys"), "{message}");
    assert!(!message.contains(&xprv[4..20]), "{message}");
    let seed = refusal(Private::SeedPhrase(Language::Japanese));
    assert!(seed.contains("BIP-39 seed phrase (Japanese)"), "{seed}");
}

fn english_phrase(entropy: &[u8]) -> Vec<String> {
    Mnemonic::from_entropy_in(Language::English, entropy)
        .expect("mnemonic")
        .words()
        .map(str::to_string)
        .collect()
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// BIP-39 English words are unique in their first four letters.
fn abbreviated(word: &str) -> String {
    word.chars().take(4).collect()
}

fn is_seed(found: Option<Private>) -> bool {
    // One phrase in 256 is also a valid Electrum seed.
    matches!(
        found,
        Some(Private::SeedPhrase(Language::English) | Private::ElectrumSeed)
    )
}

/// Every unusual spelling of one phrase, named for the failure message.
fn spellings(words: &[String]) -> Vec<(&'static str, String)> {
    let short: Vec<String> = words.iter().map(|w| abbreviated(w)).collect();
    let camel = |ws: &[String]| ws.iter().map(|w| capitalised(w)).collect::<String>();
    vec![
        ("hyphens", words.join("-")),
        ("underscores", words.join("_")),
        ("dots", words.join(".")),
        ("slashes and commas", words.join("/,")),
        ("run together", words.concat()),
        ("run together, capitals", words.concat().to_uppercase()),
        ("CamelCase", camel(words)),
        ("abbreviated", short.join(" ")),
        ("abbreviated with hyphens", short.join("-")),
        ("abbreviated run together", short.concat()),
        ("abbreviated CamelCase", camel(&short)),
        ("in a name", format!("Tresor {}", words.join("-"))),
        ("glued to text", format!("tresor{}xq", words.concat())),
    ]
}

#[test]
fn seeds_written_unusually_are_refused() {
    for entropy in [&[1u8; 16][..], &[0x5au8; 32][..]] {
        for (spelling, text) in spellings(&english_phrase(entropy)) {
            assert!(is_seed(detect(&text)), "{spelling}: {:?}", detect(&text));
        }
    }
}

#[test]
fn ordinary_notes_names_and_public_data_pass() {
    let key = master(Network::Bitcoin);
    let zpub = {
        let mut bytes =
            bitcoin::bip32::Xpub::from_priv(&bitcoin::secp256k1::Secp256k1::new(), &key).encode();
        bytes[..4].copy_from_slice(&[0x04, 0xb2, 0x47, 0x46]);
        bitcoin::base58::encode_check(&bytes)
    };
    assert!(zpub.starts_with("zpub"));
    let ordinary = [
        "paid back for the pizza and the coffee".to_string(),
        "Bought at the local market today, sent to cold storage".into(),
        "Monthly salary; rent for the apartment; gift from grandma".into(),
        "ColdStorageWallet".into(),
        "cold-storage-2024".into(),
        "water fire earth wind light dark happy sad".into(),
        "about-above-absent-absorb-abstract-absurd-abuse-access-accident-account-accuse".into(),
        "abou abov abse abso abst absu abus acce acci acco accu".into(),
        "Exchange withdrawal to hardware wallet, fee refunded by support".into(),
        "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b".into(),
        "ab".repeat(32),
        "badcafe".repeat(10),
        // Japanese is written without spaces: a long run of kana is text.
        "きょうはとてもいいてんきなのでこうえんにいってさんぽをしてからかいものをしてかえりました"
            .into(),
        "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq".into(),
        xpub_of(&key),
        zpub,
        format!("wpkh([d34db33f/84h/0h/0h]{}/0/*)", xpub_of(&key)),
    ];
    for text in ordinary {
        assert_eq!(detect(&text), None, "{text}");
    }
}

proptest! {
    #[test]
    fn detect_never_panics(input in any::<String>()) {
        let _ = detect(&input);
    }

    #[test]
    fn detect_never_panics_on_base58_noise(
        input in "[1-9A-HJ-NP-Za-km-z()/*,\\[\\] ]{0,300}"
    ) {
        let _ = detect(&input);
    }

    #[test]
    fn word_soup_below_twelve_words_passes(n in 0usize..12, seed in any::<u64>()) {
        let list = Language::English.word_list();
        let words: Vec<&str> = (0..n as u64)
            .map(|i| list[((seed ^ (i * 2654435761)) % 2048) as usize])
            .collect();
        prop_assert_eq!(detect(&words.join(" ")), None);
    }

    #[test]
    fn every_spelling_of_a_seed_is_refused(
        entropy in prop::collection::vec(any::<u8>(), 16..=16),
        long in any::<bool>(),
        extra in prop::collection::vec(any::<u8>(), 16..=16),
    ) {
        let entropy = if long { [entropy, extra].concat() } else { entropy };
        for (spelling, text) in spellings(&english_phrase(&entropy)) {
            prop_assert!(is_seed(detect(&text)), "{}", spelling);
        }
    }

    #[test]
    fn eleven_words_pass_however_written(
        entropy in prop::collection::vec(any::<u8>(), 16..=16),
    ) {
        let words = english_phrase(&entropy);
        // Glued to other letters, those may make a twelfth word: that
        // spelling is refused, rightly, as a possible seed.
        let separate = spellings(&words[..11])
            .into_iter()
            .filter(|(spelling, _)| *spelling != "glued to text");
        for (spelling, text) in separate {
            prop_assert_eq!(detect(&text), None, "{}", spelling);
        }
    }
}
