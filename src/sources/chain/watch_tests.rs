use bitcoin::bip32::{DerivationPath, Xpriv, Xpub};
use bitcoin::secp256k1::Secp256k1;
use bitcoin::{Address, CompressedPublicKey};

use super::*;

fn account(network: Network) -> Xpub {
    let secp = Secp256k1::new();
    let master = Xpriv::new_master(network, &[11u8; 32]).expect("master");
    Xpub::from_priv(&secp, &master)
}

fn with_version(xpub: &Xpub, version: [u8; 4]) -> String {
    let mut bytes = xpub.encode();
    bytes[..4].copy_from_slice(&version);
    bitcoin::base58::encode_check(&bytes)
}

/// The receive address at `index`, derived without BDK.
fn p2wpkh(xpub: &Xpub, index: u32, network: Network) -> String {
    let secp = Secp256k1::new();
    let path: DerivationPath = format!("m/0/{index}").parse().expect("path");
    let child = xpub.derive_pub(&secp, &path).expect("derive");
    Address::p2wpkh(&CompressedPublicKey(child.public_key), network).to_string()
}

#[test]
fn a_zpub_watches_native_segwit_addresses() {
    let xpub = account(Network::Bitcoin);
    let zpub = with_version(&xpub, [0x04, 0xb2, 0x47, 0x46]);
    assert!(zpub.starts_with("zpub"));
    let watch = parse(Input::Xpub(&zpub)).expect("parse");
    assert_eq!(watch.network, Network::Bitcoin);
    assert_eq!(
        watch.external,
        format!("wpkh({xpub}/0/*)#")
            .split('#')
            .next()
            .map(|s| s.to_string())
            .expect("s")
    );
    let addresses = watch.receive_addresses(3).expect("addresses");
    let expected: Vec<String> = (0..3).map(|i| p2wpkh(&xpub, i, Network::Bitcoin)).collect();
    assert_eq!(addresses, expected);
    assert!(addresses[0].starts_with("bc1q"));
}

#[test]
fn each_version_picks_its_script_type() {
    let main = account(Network::Bitcoin);
    let test = account(Network::Testnet);
    let cases = [
        (main.to_string(), "1", Network::Bitcoin),
        (
            with_version(&main, [0x04, 0x9d, 0x7c, 0xb2]),
            "3",
            Network::Bitcoin,
        ),
        (test.to_string(), "m", Network::Testnet),
        (
            with_version(&test, [0x04, 0x4a, 0x52, 0x62]),
            "2",
            Network::Testnet,
        ),
        (
            with_version(&test, [0x04, 0x5f, 0x1c, 0xf6]),
            "tb1q",
            Network::Testnet,
        ),
    ];
    for (key, prefix, network) in cases {
        let watch = parse(Input::Xpub(&key)).expect("parse");
        assert_eq!(watch.network, network);
        let first = &watch.receive_addresses(1).expect("addresses")[0];
        assert!(
            first.starts_with(prefix) || (prefix == "m" && first.starts_with('n')),
            "{key}: {first}"
        );
        assert!(
            watch
                .internal
                .as_deref()
                .is_some_and(|d| d.contains("/1/*"))
        );
    }
}

#[test]
fn descriptors_of_each_kind_are_accepted() {
    let xpub = account(Network::Bitcoin);
    let other = {
        let secp = Secp256k1::new();
        Xpub::from_priv(
            &secp,
            &Xpriv::new_master(Network::Bitcoin, &[12u8; 32]).expect("m"),
        )
    };
    for descriptor in [
        format!("pkh([d34db33f/44h/0h/0h]{xpub}/0/*)"),
        format!("sh(wpkh({xpub}/0/*))"),
        format!("wpkh({xpub}/0/*)"),
        format!("tr({xpub}/0/*)"),
        format!("wsh(sortedmulti(2,{xpub}/0/*,{other}/0/*))"),
        format!("sh(sortedmulti(1,{xpub}/0/*,{other}/0/*))"),
    ] {
        let watch = parse(Input::Descriptor(&descriptor)).expect(&descriptor);
        assert!(
            watch
                .internal
                .as_deref()
                .is_some_and(|d| d.contains("/1/*"))
        );
        assert_eq!(watch.receive_addresses(2).expect("addresses").len(), 2);
    }
    let tr = parse(Input::Descriptor(&format!("tr({xpub}/0/*)"))).expect("tr");
    assert!(tr.receive_addresses(1).expect("a")[0].starts_with("bc1p"));
}

#[test]
fn multipath_descriptors_split_into_receive_and_change() {
    let xpub = account(Network::Bitcoin);
    let watch = parse(Input::Descriptor(&format!("wpkh({xpub}/<0;1>/*)"))).expect("parse");
    assert!(watch.external.contains("/0/*"));
    assert!(
        watch
            .internal
            .as_deref()
            .is_some_and(|d| d.contains("/1/*"))
    );
    assert_eq!(
        watch.receive_addresses(1).expect("a")[0],
        p2wpkh(&xpub, 0, Network::Bitcoin)
    );
}

#[test]
fn a_zpub_inside_a_descriptor_is_read_as_its_xpub() {
    let xpub = account(Network::Bitcoin);
    let zpub = with_version(&xpub, [0x04, 0xb2, 0x47, 0x46]);
    let watch = parse(Input::Descriptor(&format!("wpkh({zpub}/0/*)"))).expect("parse");
    assert_eq!(
        watch.receive_addresses(1).expect("a")[0],
        p2wpkh(&xpub, 0, Network::Bitcoin)
    );
}

#[test]
fn exports_give_their_descriptor_and_birthday() {
    let xpub = account(Network::Bitcoin);
    let specter = format!(
        "{{\"label\": \"Cold\", \"blockheight\": 812345, \"descriptor\": \"wpkh({xpub}/0/*)\"}}"
    );
    let watch = parse(Input::Export(&specter)).expect("specter");
    assert_eq!(watch.birthday, Some(812_345));
    let zpub = with_version(&xpub, [0x04, 0xb2, 0x47, 0x46]);
    let coldcard = format!(
        "{{\"xfp\": \"0F056943\", \"bip84\": {{\"_pub\": \"{zpub}\", \"deriv\": \"m/84'/0'/0'\"}}}}"
    );
    let watch = parse(Input::Export(&coldcard)).expect("coldcard");
    assert_eq!(
        watch.receive_addresses(1).expect("a")[0],
        p2wpkh(&xpub, 0, Network::Bitcoin)
    );
    let sparrow = format!("# Sparrow output descriptor\n\nwpkh({xpub}/<0;1>/*)\n");
    assert!(parse(Input::Export(&sparrow)).is_ok());
}

#[test]
fn secrets_are_refused_before_parsing_and_junk_is_explained() {
    let master = Xpriv::new_master(Network::Bitcoin, &[11u8; 32]).expect("master");
    let refused = parse(Input::Descriptor(&format!("wpkh({master}/0/*)")));
    assert!(matches!(refused, Err(WatchError::Private(_))));
    let refused = parse(Input::Export(&format!("{{\"xprv\": \"{master}\"}}")));
    assert!(matches!(
        refused,
        Err(WatchError::Private(Private::ExtendedKey))
    ));
    assert!(matches!(
        parse(Input::Xpub("xpub123")),
        Err(WatchError::Invalid(_))
    ));
    assert!(matches!(
        parse(Input::Descriptor("wpkh(nope)")),
        Err(WatchError::Invalid(_))
    ));
    assert!(matches!(
        parse(Input::Export("{}")),
        Err(WatchError::Invalid(_))
    ));
}

proptest::proptest! {
    #[test]
    fn parsing_never_panics(input in "[ -~]{0,200}") {
        let _ = parse(Input::Descriptor(&input));
        let _ = parse(Input::Xpub(&input));
        let _ = parse(Input::Export(&input));
    }
}
