//! Adding a wallet, the same way from the command line, the API and the
//! web page: the input is checked for private material first, parsed, and
//! its first receive addresses derived so the user can compare them with
//! the wallet before saving. The input itself is never kept, logged or
//! shown back; only the public descriptors (or the address list) are.

use zeroize::Zeroizing;

use super::watch::{self, Input, WatchError};
use super::{addresses, private};
use crate::store::wallets::NewWallet;
use crate::store::{AuditEntry, Store, StoreError, WorkspaceId};
use crate::text::{Field, TextError};

/// How many receive addresses are shown before saving.
pub const SHOWN_ADDRESSES: u32 = 5;

/// What the user pasted or uploaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An account's extended public key (xpub/ypub/zpub, tpub/upub/vpub).
    Xpub,
    /// An output descriptor (single-sig or multisig).
    Descriptor,
    /// A Sparrow, Specter or Coldcard export file.
    Export,
    /// One address a line.
    Addresses,
}

impl Kind {
    pub fn parse(text: &str) -> Option<Kind> {
        match text {
            "xpub" => Some(Kind::Xpub),
            "descriptor" => Some(Kind::Descriptor),
            "export" => Some(Kind::Export),
            "addresses" => Some(Kind::Addresses),
            _ => None,
        }
    }
}

/// A checked input, ready to store.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub network: String,
    /// "descriptor" or "addresses", as stored.
    pub kind: &'static str,
    pub external: String,
    pub internal: Option<String>,
    /// The birthday the export carried, if any.
    pub birthday: Option<u32>,
    /// The first receive addresses, for the user to check.
    pub shown: Vec<String>,
}

/// Why an input was refused.
#[derive(Debug, thiserror::Error)]
pub enum AddError {
    /// Private material: the message names what was recognised, never the
    /// secret itself.
    #[error("{0}")]
    Private(String),
    #[error("{0}")]
    Invalid(String),
    /// A name too long or holding private material.
    #[error(transparent)]
    Text(#[from] TextError),
    #[error("a wallet named {0:?} already exists")]
    Taken(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks and parses an input. The caller wipes `text` afterwards.
pub fn prepare(kind: Kind, text: &str) -> Result<Prepared, AddError> {
    let refuse = |e: WatchError| match e {
        WatchError::Private(_) => AddError::Private(e.to_string()),
        WatchError::Invalid(m) => AddError::Invalid(m),
    };
    if kind == Kind::Addresses {
        // Checked for secrets like any input before anything is parsed.
        if let Some(found) = private::detect(text) {
            return Err(refuse(WatchError::Private(found)));
        }
        let (network, list) = addresses::parse(text).map_err(AddError::Invalid)?;
        return Ok(Prepared {
            network: network.to_string(),
            kind: "addresses",
            shown: list
                .iter()
                .take(SHOWN_ADDRESSES as usize)
                .cloned()
                .collect(),
            external: list.join("\n"),
            internal: None,
            birthday: None,
        });
    }
    let input = match kind {
        Kind::Descriptor => Input::Descriptor(text),
        Kind::Xpub => Input::Xpub(text),
        _ => Input::Export(text),
    };
    let parsed = watch::parse(input).map_err(refuse)?;
    Ok(Prepared {
        network: parsed.network.to_string(),
        kind: "descriptor",
        shown: parsed.receive_addresses(SHOWN_ADDRESSES).map_err(refuse)?,
        external: parsed.external,
        internal: parsed.internal,
        birthday: parsed.birthday,
    })
}

/// [`prepare`] on bytes (an uploaded file), wiped when done.
pub fn prepare_bytes(kind: Kind, bytes: Vec<u8>) -> Result<Prepared, AddError> {
    let bytes = Zeroizing::new(bytes);
    let text = Zeroizing::new(String::from_utf8_lossy(&bytes).into_owned());
    prepare(kind, &text)
}

/// What to save besides the checked input.
pub struct Settings<'a> {
    pub name: &'a str,
    pub gap_limit: u32,
    pub birthday: Option<u32>,
}

/// The largest gap limit accepted.
pub const MAX_GAP_LIMIT: u32 = 100_000;

/// Stores a checked wallet; returns its id.
pub async fn save(
    store: &Store,
    workspace: WorkspaceId,
    prepared: &Prepared,
    settings: &Settings<'_>,
    audit: &AuditEntry,
) -> Result<i64, AddError> {
    let name = settings.name.trim();
    // A name is stored and shown: bounded, and it must not carry a secret.
    Field::Name
        .check("the wallet name", name)
        .map_err(AddError::Text)?;
    if name.is_empty() || name.chars().any(char::is_control) {
        return Err(AddError::Invalid(
            "a wallet name is 1 to 100 characters, without control characters".into(),
        ));
    }
    if !(1..=MAX_GAP_LIMIT).contains(&settings.gap_limit) {
        return Err(AddError::Invalid(format!(
            "the gap limit is from 1 to {MAX_GAP_LIMIT}"
        )));
    }
    let new = NewWallet {
        name,
        network: &prepared.network,
        kind: prepared.kind,
        external: &prepared.external,
        internal: prepared.internal.as_deref(),
        gap_limit: settings.gap_limit,
        birthday: settings.birthday.or(prepared.birthday),
        now: audit.at,
    };
    let audit = audit.clone().target(name);
    store
        .add_wallet(workspace, &new, &audit)
        .await?
        .ok_or_else(|| AddError::Taken(name.to_string()))
}
