//! Coinbase's per-request JWT (CDP API keys): the secret read in the
//! shapes the CDP portal hands out, and a fresh token signed for each
//! request. ECDSA keys arrive as SEC1 PEM (`BEGIN EC PRIVATE KEY`), which
//! is wrapped into PKCS#8 here for ring; Ed25519 keys as base64 of the
//! 64-byte seed and public key (or the 32-byte seed alone); a PKCS#8 PEM
//! (`BEGIN PRIVATE KEY`) of either works too.
//!
//! Nothing here ever formats the key name or the secret into an error.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _,
};
use serde_json::json;

/// How long a token is good for: Coinbase accepts at most two minutes.
pub const LIFETIME_SECS: i64 = 120;

/// The `iss` claims Coinbase accepts: the docs say `cdp`, working clients
/// send `coinbase-cloud`.
pub const ISSUERS: [&str; 2] = ["cdp", "coinbase-cloud"];

pub struct Signer {
    key: Key,
    rng: SystemRandom,
}

enum Key {
    Es256(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

const EC_PUBLIC_KEY_OID: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const P256_OID: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

const REFUSED: &str = "the secret is not a Coinbase API private key (expected the \
    \"-----BEGIN EC PRIVATE KEY-----\" block of an ECDSA key, or the base64 secret of an \
    Ed25519 key, as the CDP portal shows it)";

impl Signer {
    /// Reads a secret as the CDP portal or its JSON download gives it
    /// (literal `\n` escapes included).
    pub fn from_secret(secret: &str) -> Result<Signer, String> {
        let text = secret.trim().replace("\\n", "\n");
        let rng = SystemRandom::new();
        let key = if let Some(der) = pem_block(&text, "EC PRIVATE KEY") {
            let pkcs8 = sec1_to_pkcs8(&der);
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8, &rng)
                .map(Key::Es256)
                .map_err(|_| {
                    "the EC private key is not a P-256 key Coinbase issues (pick ECDSA when making the key)"
                        .to_string()
                })?
        } else if let Some(der) = pem_block(&text, "PRIVATE KEY") {
            match EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der, &rng) {
                Ok(pair) => Key::Es256(pair),
                Err(_) => Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
                    .map(Key::Ed25519)
                    .map_err(|_| REFUSED.to_string())?,
            }
        } else if text.contains("-----BEGIN") {
            return Err(REFUSED.into());
        } else {
            let bytes = STANDARD
                .decode(text.as_bytes())
                .map_err(|_| REFUSED.to_string())?;
            let pair = match bytes.len() {
                64 => Ed25519KeyPair::from_seed_and_public_key(&bytes[..32], &bytes[32..]),
                32 => Ed25519KeyPair::from_seed_unchecked(&bytes),
                _ => return Err(REFUSED.into()),
            };
            Key::Ed25519(pair.map_err(|_| {
                "the Ed25519 secret does not hold a matching key pair: copy it again".to_string()
            })?)
        };
        Ok(Signer { key, rng })
    }

    /// `ES256` or `EdDSA`.
    pub fn alg(&self) -> &'static str {
        match self.key {
            Key::Es256(_) => "ES256",
            Key::Ed25519(_) => "EdDSA",
        }
    }

    /// The public key, as the verifier needs it (uncompressed point for
    /// P-256, 32 bytes for Ed25519).
    pub fn public_key(&self) -> Vec<u8> {
        match &self.key {
            Key::Es256(pair) => pair.public_key().as_ref().to_vec(),
            Key::Ed25519(pair) => pair.public_key().as_ref().to_vec(),
        }
    }

    /// A token for one request: `uri` is `"<METHOD> <host><path>"`, with
    /// the host the request goes to and never the query.
    pub fn jwt(&self, key_name: &str, issuer: &str, uri: &str, now: i64) -> Result<String, String> {
        let mut nonce = [0u8; 16];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| "no randomness for the token's nonce".to_string())?;
        let header = json!({
            "alg": self.alg(),
            "kid": key_name,
            "nonce": hex::encode(nonce),
            "typ": "JWT",
        });
        let claims = json!({
            "sub": key_name,
            "iss": issuer,
            "nbf": now,
            "exp": now + LIFETIME_SECS,
            "uri": uri,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = match &self.key {
            Key::Es256(pair) => pair
                .sign(&self.rng, signing_input.as_bytes())
                .map_err(|_| "the token could not be signed".to_string())?
                .as_ref()
                .to_vec(),
            Key::Ed25519(pair) => pair.sign(signing_input.as_bytes()).as_ref().to_vec(),
        };
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }
}

/// The DER inside `-----BEGIN {label}-----`, when the text holds one.
fn pem_block(text: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let stop = start + text[start..].find(&end)?;
    let body: String = text[start..stop]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    STANDARD.decode(body).ok()
}

/// A DER element: tag, length, content.
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// RFC 5915's ECPrivateKey (SEC1) inside RFC 5208's PrivateKeyInfo, for
/// the curve P-256.
pub fn sec1_to_pkcs8(sec1: &[u8]) -> Vec<u8> {
    let algorithm = [der(0x06, EC_PUBLIC_KEY_OID), der(0x06, P256_OID)].concat();
    let info = [der(0x02, &[0]), der(0x30, &algorithm), der(0x04, sec1)].concat();
    der(0x30, &info)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pem(label: &str, der: &[u8]) -> String {
        format!(
            "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
            STANDARD.encode(der)
        )
    }

    #[test]
    fn each_secret_shape_reads_and_a_bad_one_is_refused_without_echo() {
        let rng = SystemRandom::new();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("generate");
        let signer = Signer::from_secret(&pem("PRIVATE KEY", pkcs8.as_ref())).expect("pkcs8");
        assert_eq!(signer.alg(), "ES256");
        let ed = Ed25519KeyPair::generate_pkcs8(&rng).expect("ed25519");
        assert_eq!(
            Signer::from_secret(&pem("PRIVATE KEY", ed.as_ref()))
                .expect("ed pkcs8")
                .alg(),
            "EdDSA"
        );
        let seed = [7u8; 32];
        let pair = Ed25519KeyPair::from_seed_unchecked(&seed).expect("seed");
        let both = [&seed[..], pair.public_key().as_ref()].concat();
        let from_64 = Signer::from_secret(&STANDARD.encode(&both)).expect("64 bytes");
        assert_eq!(from_64.public_key(), pair.public_key().as_ref());
        assert_eq!(
            Signer::from_secret(&STANDARD.encode(seed))
                .expect("32 bytes")
                .alg(),
            "EdDSA"
        );
        for bad in [
            "not-a-secret-at-all",
            "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----",
        ] {
            let Err(why) = Signer::from_secret(bad) else {
                panic!("accepted {bad:?}");
            };
            assert!(!why.contains(bad) && !why.contains("AAAA"), "{why}");
        }
        let mut wrong = both.clone();
        wrong[40] ^= 1;
        assert!(Signer::from_secret(&STANDARD.encode(&wrong)).is_err());
    }

    /// One DER element: (tag, content, rest).
    fn tlv(input: &[u8]) -> (u8, &[u8], &[u8]) {
        let (tag, first) = (input[0], input[1] as usize);
        let (len, head) = if first < 0x80 {
            (first, 2)
        } else {
            let n = first & 0x7f;
            (
                input[2..2 + n]
                    .iter()
                    .fold(0usize, |a, b| a << 8 | *b as usize),
                2 + n,
            )
        };
        (tag, &input[head..head + len], &input[head + len..])
    }

    #[test]
    fn a_sec1_pem_as_the_cdp_portal_gives_it_reads() {
        let rng = SystemRandom::new();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("generate");
        let (_, info, _) = tlv(pkcs8.as_ref());
        let (_, _, rest) = tlv(info); // version
        let (_, _, rest) = tlv(rest); // algorithm
        let (tag, sec1, _) = tlv(rest);
        assert_eq!(tag, 0x04);
        let signer = Signer::from_secret(&pem("EC PRIVATE KEY", sec1)).expect("sec1");
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .expect("pair");
        assert_eq!(signer.public_key(), pair.public_key().as_ref());
        // As the JSON download writes it, with literal "\n".
        let escaped = pem("EC PRIVATE KEY", sec1).replace('\n', "\\n");
        assert_eq!(
            Signer::from_secret(&escaped).expect("escaped").alg(),
            "ES256"
        );
    }

    #[test]
    fn a_token_names_the_key_and_the_request() {
        let seed = [9u8; 32];
        let signer = Signer::from_secret(&STANDARD.encode(seed)).expect("seed");
        let token = signer
            .jwt(
                "organizations/o/apiKeys/k",
                "cdp",
                "GET api.coinbase.com/v2/accounts",
                1_700_000_000,
            )
            .expect("jwt");
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("json");
        assert_eq!(claims["exp"], 1_700_000_120);
        assert_eq!(claims["uri"], "GET api.coinbase.com/v2/accounts");
        assert_eq!(claims["sub"], "organizations/o/apiKeys/k");
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).expect("b64")).expect("json");
        assert_eq!(header["alg"], "EdDSA");
        assert_eq!(header["nonce"].as_str().map(str::len), Some(32));
        let public =
            ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, signer.public_key());
        let signature = URL_SAFE_NO_PAD.decode(parts[2]).expect("sig");
        public
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
            .expect("verifies");
    }
}
