//! Free text that is stored or logged, checked in one place: every kind of
//! field has a length limit, and none may hold private key material (a
//! seed, however spelt, or a private key). The API, the pages and the
//! import machinery all call [`Field::check`]; the limits are listed in
//! `docs/security.md`.

use crate::sources::chain::private;

/// The kinds of free text Ledgersys stores, each with its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// A sign-in name.
    Username,
    /// Names shown in lists: wallets, accounts, workspaces, tokens, BTCPay
    /// integrations, email addresses.
    Name,
    /// A row's id from its source, a transaction id, a currency code.
    Id,
    /// Notes, descriptions, labels, reasons.
    Note,
    /// An address of a server.
    Url,
}

impl Field {
    /// The most characters (Unicode scalar values) the field holds.
    pub const fn max_chars(self) -> usize {
        match self {
            Field::Username => 64,
            Field::Name => 100,
            Field::Id => 256,
            Field::Note => 1000,
            Field::Url => 2048,
        }
    }

    /// Checks `value`, the field the user knows as `what` ("the wallet
    /// name"), before it is stored. The answer never repeats the value.
    pub fn check(self, what: &str, value: &str) -> Result<(), TextError> {
        let max = self.max_chars();
        // Counting stops past the limit: a huge value costs no more.
        if value.chars().nth(max).is_some() {
            return Err(TextError::TooLong {
                what: what.to_string(),
                max,
            });
        }
        if cannot_hold_a_secret(value) {
            return Ok(());
        }
        if let Some(found) = private::detect(value) {
            return Err(TextError::Private {
                what: what.to_string(),
                found,
            });
        }
        Ok(())
    }
}

/// Plain ASCII shorter than the shortest secret: no BIP-39 word in a list
/// written in Latin letters is shorter than three letters, so twelve of
/// them take at least 36 characters even run together, and a private key
/// is at least 51. Most stored fields (accounts, ids, currency codes,
/// short notes) are like this, and an import checks every one of them, so
/// they skip the detector. Any other script goes through it: Chinese and
/// Japanese seeds are far shorter.
fn cannot_hold_a_secret(value: &str) -> bool {
    value.len() < SHORTEST_ASCII_SECRET && value.is_ascii()
}

const SHORTEST_ASCII_SECRET: usize = 36;

/// Why a field was refused, in the user's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("{what} is too long: at most {max} characters")]
    TooLong { what: String, max: usize },
    #[error("{what}: {}", private::refusal(*.found))]
    Private {
        what: String,
        found: private::Private,
    },
}

impl TextError {
    /// The stable machine-readable code of the refusal.
    pub fn code(&self) -> &'static str {
        match self {
            TextError::TooLong { .. } => "too_long",
            TextError::Private { .. } => "private_material",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_count_characters_and_the_answer_never_repeats_the_value() {
        assert_eq!(Field::Name.check("the name", &"é".repeat(100)), Ok(()));
        let long = Field::Name.check("the name", &"é".repeat(101));
        assert_eq!(
            long,
            Err(TextError::TooLong {
                what: "the name".into(),
                max: 100
            })
        );
        assert_eq!(long.unwrap_err().code(), "too_long");
        let seed = "legal-winner-thank-year-wave-sausage-worth-useful-legal-winner-thank-yellow";
        let refused = Field::Note.check("the note", seed).unwrap_err();
        assert_eq!(refused.code(), "private_material");
        let message = refused.to_string();
        assert!(message.starts_with("the note: the input contains a BIP-39 seed phrase"));
        assert!(!message.contains("winner"), "{message}");
        assert_eq!(
            Field::Note.check("the note", "paid back for the pizza"),
            Ok(())
        );
    }

    /// The shortcut for short ASCII text rests on the word lists: no word
    /// of a list written in ASCII letters is shorter than three letters.
    #[test]
    fn twelve_of_the_shortest_ascii_words_need_the_threshold() {
        let mut shortest = usize::MAX;
        for language in bip39::Language::ALL {
            let words = language.word_list();
            if words.iter().all(|w| w.is_ascii()) {
                shortest = shortest.min(words.iter().map(|w| w.len()).min().unwrap_or(usize::MAX));
            }
        }
        assert!(shortest >= 3, "a {shortest}-letter word");
        assert!(12 * shortest >= SHORTEST_ASCII_SECRET);
        // Twelve three-letter words run together reach the detector.
        let run_together = "act".repeat(12);
        assert!(!cannot_hold_a_secret(&run_together));
        assert!(cannot_hold_a_secret(&run_together[3..]));
        assert!(cannot_hold_a_secret("kraken"));
        assert!(
            !cannot_hold_a_secret("一二三"),
            "other scripts are always checked"
        );
    }
}
