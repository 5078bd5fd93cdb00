//! Recognises private key material in anything a user gives us to watch.
//!
//! Ledgersys is watch-only: an input holding a secret is refused whole. The
//! check looks at every token of the input, so a key buried in a descriptor
//! or a JSON export is found too. What was recognised is named; the secret
//! itself never appears in the answer.

use bip39::Language;
use hmac::{KeyInit, Mac};
use zeroize::{Zeroize, Zeroizing};

/// What kind of secret an input holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Private {
    /// xprv, tprv, yprv, zprv, uprv, vprv, Yprv, Zprv... any version bytes.
    ExtendedKey,
    /// A single private key in wallet import format.
    Wif,
    /// A descriptor whose key is one of the above.
    Descriptor(Secret),
    /// Twelve or more words of one BIP-39 wordlist in a row.
    SeedPhrase(Language),
    /// An Electrum (2.0 and later) seed.
    ElectrumSeed,
}

/// The kind of key found inside a descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secret {
    ExtendedKey,
    Wif,
}

impl std::fmt::Display for Private {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self {
            Private::ExtendedKey => "an extended private key (xprv/tprv or a SLIP-132 variant)",
            Private::Wif => "a private key in wallet import format (WIF)",
            Private::Descriptor(Secret::ExtendedKey) => {
                "a descriptor containing an extended private key"
            }
            Private::Descriptor(Secret::Wif) => "a descriptor containing a WIF private key",
            Private::SeedPhrase(language) => {
                return write!(f, "a BIP-39 seed phrase ({})", language_name(*language));
            }
            Private::ElectrumSeed => "an Electrum seed",
        };
        f.write_str(what)
    }
}

/// The message shown when an input is refused.
pub fn refusal(found: Private) -> String {
    format!(
        "the input contains {found}; Ledgersys never takes private keys or seeds. \
         Give the extended public key (xpub/ypub/zpub) or a public descriptor instead. \
         Nothing was stored."
    )
}

fn language_name(language: Language) -> &'static str {
    match language {
        Language::English => "English",
        Language::SimplifiedChinese => "Chinese, simplified",
        Language::TraditionalChinese => "Chinese, traditional",
        Language::Czech => "Czech",
        Language::French => "French",
        Language::Italian => "Italian",
        Language::Japanese => "Japanese",
        Language::Korean => "Korean",
        Language::Portuguese => "Portuguese",
        Language::Spanish => "Spanish",
    }
}

/// The shortest seed phrase: BIP-39 and Electrum seeds have 12 words or more.
const MIN_WORDS: usize = 12;

/// The first secret found in `input`, if any.
pub fn detect(input: &str) -> Option<Private> {
    let descriptor = input.contains('(');
    for token in base58_tokens(input) {
        let Some(secret) = base58_secret(token) else {
            continue;
        };
        return Some(match (descriptor, secret) {
            (true, secret) => Private::Descriptor(secret),
            (false, Secret::ExtendedKey) => Private::ExtendedKey,
            (false, Secret::Wif) => Private::Wif,
        });
    }
    words::seed_words(input)
}

/// Runs of base58 characters long enough to be a key. A key glued to other
/// base58 text is found within 400 characters; longer runs are cut into
/// overlapping pieces so that the window search stays linear.
fn base58_tokens(input: &str) -> impl Iterator<Item = &str> {
    const PIECE: usize = 400;
    const OVERLAP: usize = 112;
    input
        .split(|c: char| !c.is_ascii_alphanumeric() || matches!(c, '0' | 'O' | 'I' | 'l'))
        .filter(|t| t.len() >= 50)
        .flat_map(|t| {
            let starts = (0..t.len().saturating_sub(OVERLAP).max(1)).step_by(PIECE - OVERLAP);
            starts.map(move |s| &t[s..(s + PIECE).min(t.len())])
        })
}

fn base58_secret(token: &str) -> Option<Secret> {
    // A key may be glued to text in base58's alphabet; an extended key is
    // 111 characters and a WIF key 51 or 52, so try those windows too.
    for width in [111, 112, 52, 51] {
        if token.len() < width {
            continue;
        }
        for start in 0..=token.len() - width {
            if let Some(found) = classify(&token[start..start + width]) {
                return Some(found);
            }
        }
    }
    None
}

fn classify(candidate: &str) -> Option<Secret> {
    // The decoded bytes may be a key: wiped once looked at.
    let payload = Zeroizing::new(bitcoin::base58::decode_check(candidate).ok()?);
    match payload.len() {
        // BIP-32 serialisation: the key data starts at byte 45, with a zero
        // byte before a private key and 02/03 before a public one. This
        // holds whatever the version bytes are.
        78 if payload[45] == 0 => Some(Secret::ExtendedKey),
        33 => Some(Secret::Wif),
        34 if payload[33] == 1 => Some(Secret::Wif),
        _ => None,
    }
}

/// Chinese phrases are often written without spaces: one character a word.
pub(crate) fn chinese_without_spaces(text: &str) -> Option<Private> {
    for list in words::wordlists() {
        let language = &list.language;
        if !matches!(
            language,
            Language::SimplifiedChinese | Language::TraditionalChinese
        ) {
            continue;
        }
        let mut run = 0;
        for c in text.chars() {
            let mut buf = [0; 4];
            run = if list.words.contains(&*c.encode_utf8(&mut buf)) {
                run + 1
            } else {
                0
            };
            if run >= MIN_WORDS {
                return Some(Private::SeedPhrase(*language));
            }
        }
    }
    None
}

/// Electrum 2.0+ seeds carry their version in an HMAC of the phrase:
/// "01" standard, "100" segwit, "101" and "102" two-factor.
pub(crate) fn is_electrum_seed(phrase: &str) -> bool {
    type HmacSha512 = hmac::Hmac<sha2::Sha512>;
    let Ok(mut mac) = <HmacSha512 as KeyInit>::new_from_slice(b"Seed version") else {
        return false;
    };
    mac.update(phrase.as_bytes());
    let mut digest = hex::encode(mac.finalize().into_bytes());
    let seed = ["01", "100", "101", "102"]
        .iter()
        .any(|prefix| digest.starts_with(prefix));
    digest.zeroize();
    seed
}

#[path = "private_words.rs"]
mod words;

#[cfg(test)]
#[path = "private_tests.rs"]
mod tests;
