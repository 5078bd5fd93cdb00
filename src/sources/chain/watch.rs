//! What a user adds to watch: an extended public key, a public descriptor
//! or a wallet export file, turned into the pair of public descriptors BDK
//! watches (receive and change). Secrets are refused before anything is
//! parsed.

use std::str::FromStr;

use bdk_wallet::miniscript::ForEachKey;
use bdk_wallet::miniscript::descriptor::{Descriptor, DescriptorPublicKey};
use bdk_wallet::{KeychainKind, Wallet};
use bitcoin::{Network, NetworkKind};

use super::private::{self, Private};

/// What was given, as typed or read from a file.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    Descriptor(&'a str),
    Xpub(&'a str),
    /// A Sparrow, Specter or Coldcard export: JSON or text holding a
    /// descriptor or an account's extended public key.
    Export(&'a str),
}

impl Input<'_> {
    fn text(&self) -> &str {
        match self {
            Input::Descriptor(t) | Input::Xpub(t) | Input::Export(t) => t,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("{}", private::refusal(*.0))]
    Private(Private),
    #[error("{0}")]
    Invalid(String),
}

/// Public descriptors ready to watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watch {
    pub network: Network,
    pub external: String,
    /// None for a descriptor without a change branch.
    pub internal: Option<String>,
    /// A first block height the export named.
    pub birthday: Option<u32>,
}

impl Watch {
    /// A wallet holding nothing yet, to derive addresses from.
    pub fn wallet(&self) -> Result<Wallet, WatchError> {
        let params = match &self.internal {
            Some(internal) => Wallet::create(self.external.clone(), internal.clone()),
            None => Wallet::create_single(self.external.clone()),
        };
        params
            .network(self.network)
            .create_wallet_no_persist()
            .map_err(|e| WatchError::Invalid(format!("BDK does not accept the descriptor: {e}")))
    }

    /// The first `n` receive addresses, for the user to check.
    pub fn receive_addresses(&self, n: u32) -> Result<Vec<String>, WatchError> {
        let wallet = self.wallet()?;
        Ok((0..n)
            .map(|i| wallet.peek_address(KeychainKind::External, i).to_string())
            .collect())
    }
}

/// Refuses private material, then parses.
pub fn parse(input: Input<'_>) -> Result<Watch, WatchError> {
    if let Some(found) = private::detect(input.text()) {
        return Err(WatchError::Private(found));
    }
    match input {
        Input::Xpub(text) => from_xpub(text.trim()),
        Input::Descriptor(text) => from_descriptor(text.trim(), None),
        Input::Export(text) => from_export(text),
    }
}

/// SLIP-132 public versions: (version, script, is mainnet).
const VERSIONS: [([u8; 4], Script, bool); 10] = [
    ([0x04, 0x88, 0xb2, 0x1e], Script::Pkh, true), // xpub
    ([0x04, 0x9d, 0x7c, 0xb2], Script::ShWpkh, true), // ypub
    ([0x04, 0xb2, 0x47, 0x46], Script::Wpkh, true), // zpub
    ([0x02, 0x95, 0xb4, 0x3f], Script::Multisig, true), // Ypub
    ([0x02, 0xaa, 0x7e, 0xd3], Script::Multisig, true), // Zpub
    ([0x04, 0x35, 0x87, 0xcf], Script::Pkh, false), // tpub
    ([0x04, 0x4a, 0x52, 0x62], Script::ShWpkh, false), // upub
    ([0x04, 0x5f, 0x1c, 0xf6], Script::Wpkh, false), // vpub
    ([0x02, 0x42, 0x89, 0xef], Script::Multisig, false), // Upub
    ([0x02, 0x57, 0x54, 0x83], Script::Multisig, false), // Vpub
];
const XPUB: [u8; 4] = [0x04, 0x88, 0xb2, 0x1e];
const TPUB: [u8; 4] = [0x04, 0x35, 0x87, 0xcf];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    Pkh,
    ShWpkh,
    Wpkh,
    Multisig,
}

/// The key as xpub/tpub (which BDK reads), its script type and network.
fn standard_key(text: &str) -> Option<(String, Script, Network)> {
    let mut bytes = bitcoin::base58::decode_check(text).ok()?;
    if bytes.len() != 78 {
        return None;
    }
    let (_, script, main) = VERSIONS.iter().find(|(v, _, _)| bytes[..4] == *v)?;
    bytes[..4].copy_from_slice(if *main { &XPUB } else { &TPUB });
    let network = if *main {
        Network::Bitcoin
    } else {
        Network::Testnet
    };
    Some((bitcoin::base58::encode_check(&bytes), *script, network))
}

fn from_xpub(text: &str) -> Result<Watch, WatchError> {
    let Some((xpub, script, network)) = standard_key(text) else {
        return Err(WatchError::Invalid(
            "not an extended public key (xpub, ypub, zpub, tpub, upub or vpub)".into(),
        ));
    };
    let wrap = |branch: u32| match script {
        Script::Pkh => Ok(format!("pkh({xpub}/{branch}/*)")),
        Script::ShWpkh => Ok(format!("sh(wpkh({xpub}/{branch}/*))")),
        Script::Wpkh => Ok(format!("wpkh({xpub}/{branch}/*)")),
        Script::Multisig => Err(WatchError::Invalid(
            "a Ypub/Zpub is one cosigner of a multisig wallet: give the multisig descriptor".into(),
        )),
    };
    let watch = Watch {
        network,
        external: wrap(0)?,
        internal: Some(wrap(1)?),
        birthday: None,
    };
    watch.wallet()?;
    Ok(watch)
}

/// Replaces SLIP-132 keys inside a descriptor by their xpub/tpub form.
fn standardise_keys(descriptor: &str) -> String {
    let mut out = String::with_capacity(descriptor.len());
    let mut rest = descriptor;
    while !rest.is_empty() {
        let end = rest
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(rest.len());
        let (token, tail) = rest.split_at(end);
        match standard_key(token) {
            Some((key, _, _)) => out.push_str(&key),
            None => out.push_str(token),
        }
        let next = tail.chars().next().map_or(0, char::len_utf8);
        out.push_str(&tail[..next]);
        rest = &tail[next..];
    }
    out
}

fn from_descriptor(text: &str, birthday: Option<u32>) -> Result<Watch, WatchError> {
    let text = standardise_keys(text);
    // The checksum was computed over the SLIP-132 text; it no longer fits.
    let text = text.split('#').next().unwrap_or_default();
    let descriptor = Descriptor::<DescriptorPublicKey>::from_str(text)
        .map_err(|e| WatchError::Invalid(format!("not a valid output descriptor: {e}")))?;
    let network = network_of(&descriptor);
    let (external, internal) = if descriptor.is_multipath() {
        let mut singles = descriptor
            .into_single_descriptors()
            .map_err(|e| WatchError::Invalid(format!("cannot split the descriptor: {e}")))?;
        if singles.len() != 2 {
            return Err(WatchError::Invalid(
                "a multipath descriptor must have two branches, <0;1>".into(),
            ));
        }
        let internal = singles.pop().map(|d| d.to_string());
        (singles.remove(0).to_string(), internal)
    } else if descriptor.has_wildcard() && text.contains("/0/*") {
        let internal =
            Descriptor::<DescriptorPublicKey>::from_str(&text.replace("/0/*", "/1/*"))
                .map_err(|e| WatchError::Invalid(format!("not a valid output descriptor: {e}")))?;
        (descriptor.to_string(), Some(internal.to_string()))
    } else {
        (descriptor.to_string(), None)
    };
    let watch = Watch {
        network,
        external,
        internal,
        birthday,
    };
    watch.wallet()?;
    Ok(watch)
}

fn network_of(descriptor: &Descriptor<DescriptorPublicKey>) -> Network {
    let mut test = false;
    descriptor.for_each_key(|key| {
        let kind = match key {
            DescriptorPublicKey::XPub(x) => Some(x.xkey.network),
            DescriptorPublicKey::MultiXPub(x) => Some(x.xkey.network),
            DescriptorPublicKey::Single(_) => None,
        };
        test |= kind == Some(NetworkKind::Test);
        true
    });
    if test {
        Network::Testnet
    } else {
        Network::Bitcoin
    }
}

/// Specter and Sparrow JSON carry `descriptor` (Specter also `blockheight`);
/// Coldcard's generic JSON carries `bip84`/`bip49`/`bip44` sections; a text
/// export has the descriptor on a line of its own.
fn from_export(text: &str) -> Result<Watch, WatchError> {
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(text) {
        let birthday = json
            .get("blockheight")
            .and_then(serde_json::Value::as_u64)
            .and_then(|h| u32::try_from(h).ok());
        if let Some(descriptor) = json.get("descriptor").and_then(|d| d.as_str()) {
            return from_descriptor(descriptor, birthday);
        }
        for section in ["bip84", "bip49", "bip44"] {
            if let Some(key) = json
                .get(section)
                .and_then(|s| s.get("_pub").or_else(|| s.get("xpub")))
                .and_then(|k| k.as_str())
            {
                return from_xpub(key);
            }
        }
        return Err(WatchError::Invalid(
            "the export names no descriptor and no bip84/bip49/bip44 key".into(),
        ));
    }
    text.lines()
        .map(str::trim)
        .find(|l| !l.starts_with('#') && l.contains('('))
        .map(|line| from_descriptor(line, None))
        .unwrap_or_else(|| Err(WatchError::Invalid("the export holds no descriptor".into())))
}

#[cfg(test)]
#[path = "watch_tests.rs"]
mod tests;
