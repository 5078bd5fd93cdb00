//! Seed words however they are written. People hide a seed in a name or a
//! note by spelling it unusually, so before the words are counted the text
//! is normalised: CamelCase is split, case folded (NFKD, as BIP-39 does),
//! any ASCII punctuation (hyphens, dots, underscores) separates words, a
//! long run of letters is cut into the words it is made of, and English
//! words may be written as their first four letters, which BIP-39 makes
//! unique.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use bip39::{Language, Mnemonic};
use zeroize::Zeroizing;

use super::{MIN_WORDS, Private, chinese_without_spaces, is_electrum_seed};

/// One BIP-39 list, normalised (NFKD) as input words are.
pub(super) struct Wordlist {
    pub language: Language,
    pub words: HashSet<String>,
    /// English only: each word's first four letters, naming the word.
    abbreviations: HashMap<String, String>,
    /// The longest word, in characters.
    longest: usize,
    /// Whether a run of letters is cut into words: only for the lists in
    /// Latin letters. Japanese and Korean text is written without spaces
    /// and would be read as words; Chinese has its own check.
    cuts: bool,
}

impl Wordlist {
    /// The full word `piece` stands for, if it is a word of the list.
    fn word<'a>(&'a self, piece: &'a str) -> Option<&'a str> {
        if self.words.contains(piece) {
            return Some(piece);
        }
        self.abbreviations.get(piece).map(String::as_str)
    }
}

/// How short a run of letters may be and still be worth cutting into words:
/// twelve of the shortest words (three letters).
const RUN_TOGETHER: usize = MIN_WORDS * 3;

pub(super) fn wordlists() -> &'static [Wordlist] {
    static LISTS: OnceLock<Vec<Wordlist>> = OnceLock::new();
    LISTS.get_or_init(|| {
        Language::ALL
            .iter()
            .map(|&language| {
                let words: HashSet<String> = language
                    .word_list()
                    .iter()
                    .map(|w| normalise(w).into_owned())
                    .collect();
                let abbreviations = match language {
                    Language::English => words
                        .iter()
                        .filter(|w| w.len() > 4)
                        .map(|w| (w[..4].to_string(), w.clone()))
                        .collect(),
                    _ => HashMap::new(),
                };
                let longest = words.iter().map(|w| w.chars().count()).max().unwrap_or(0);
                let cuts = !matches!(
                    language,
                    Language::Japanese
                        | Language::Korean
                        | Language::SimplifiedChinese
                        | Language::TraditionalChinese
                );
                Wordlist {
                    language,
                    words,
                    abbreviations,
                    longest,
                    cuts,
                }
            })
            .collect()
    })
}

fn normalise(text: &str) -> Cow<'_, str> {
    let mut cow = Cow::Borrowed(text);
    Mnemonic::normalize_utf8_cow(&mut cow);
    cow
}

/// "AbandonAbility" becomes "Abandon Ability": a capital after a small
/// letter starts a word.
fn split_camel_case(input: &str) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(input.len() + input.len() / 4));
    let mut previous_lower = false;
    for c in input.chars() {
        if c.is_uppercase() && previous_lower {
            out.push(' ');
        }
        previous_lower = c.is_lowercase();
        out.push(c);
    }
    out
}

pub(super) fn seed_words(input: &str) -> Option<Private> {
    // Copies of the input may hold a seed: wiped when the check ends.
    let split = split_camel_case(input);
    let lower = Zeroizing::new(split.to_lowercase());
    let normalised = Zeroizing::new(normalise(&lower).into_owned());
    let tokens: Vec<&str> = normalised
        .split(|c: char| c.is_whitespace() || c.is_ascii_punctuation())
        .filter(|w| !w.is_empty())
        // A numbered list: "1. abandon 2. ability ..." or "1) abandon".
        .filter(|w| !w.chars().all(|c| c.is_ascii_digit()))
        .collect();
    for list in wordlists() {
        if let Some(found) = longest_run(list, &tokens) {
            return Some(found);
        }
    }
    chinese_without_spaces(&normalised)
}

/// Hexadecimal (a txid, a hash) is an id, never a seed run together; test
/// ids such as "abab..." would otherwise read as Spanish words.
fn is_hex(token: &str) -> bool {
    token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Twelve or more words of `list` in a row among `tokens`.
fn longest_run(list: &Wordlist, tokens: &[&str]) -> Option<Private> {
    // `None` breaks a run: a token that is not made of words.
    let mut words: Vec<Option<&str>> = Vec::with_capacity(tokens.len());
    for token in tokens {
        match list.word(token) {
            Some(word) => words.push(Some(word)),
            None if list.cuts && token.len() >= RUN_TOGETHER && !is_hex(token) => {
                cut_into_words(list, token, &mut words)
            }
            None => words.push(None),
        }
    }
    let mut run: Vec<&str> = Vec::new();
    for (i, word) in words.iter().enumerate() {
        match word {
            Some(word) => run.push(word),
            None => run.clear(),
        }
        let ends = !matches!(words.get(i + 1), Some(Some(_)));
        if run.len() >= MIN_WORDS && ends {
            let phrase = Zeroizing::new(run.join(" "));
            if list.language == Language::English && is_electrum_seed(&phrase) {
                return Some(Private::ElectrumSeed);
            }
            return Some(Private::SeedPhrase(list.language));
        }
    }
    None
}

/// The words of `list` written together inside `token`, pushed in order:
/// the longest stretch of the token made of words, cut into the fewest
/// words (so that eleven words never read as twelve). A stretch that is not
/// the whole token is set apart by breaks, so it joins no neighbour.
fn cut_into_words<'a>(list: &'a Wordlist, token: &'a str, out: &mut Vec<Option<&'a str>>) {
    // Byte offsets of every character boundary.
    let bounds: Vec<usize> = token
        .char_indices()
        .map(|(i, _)| i)
        .chain([token.len()])
        .collect();
    let last = bounds.len() - 1;
    // cover[j]: of the stretches of words ending at bound j, the one that
    // starts earliest, cut into the fewest words: (start, words, where the
    // last word starts). The earliest start for j comes through the
    // earliest start of the bound its last word starts at.
    let mut cover: Vec<Option<(usize, usize, usize)>> = vec![None; bounds.len()];
    let mut best: Option<usize> = None;
    for j in 1..bounds.len() {
        for k in 1..=list.longest.min(j) {
            let s = j - k;
            if list.word(&token[bounds[s]..bounds[j]]).is_none() {
                continue;
            }
            let candidate = match cover[s] {
                Some((start, words, _)) => (start, words + 1, s),
                None => (s, 1, s),
            };
            if cover[j].is_none_or(|(start, words, _)| (candidate.0, candidate.1) < (start, words))
            {
                cover[j] = Some(candidate);
            }
        }
        if let Some((start, words, _)) = cover[j] {
            let better = best
                .and_then(|b| cover[b].map(|(bs, bw, _)| (b - bs, std::cmp::Reverse(bw))))
                .is_none_or(|kept| (j - start, std::cmp::Reverse(words)) > kept);
            if better {
                best = Some(j);
            }
        }
    }
    let Some(end) = best else {
        out.push(None);
        return;
    };
    let mut found = Vec::new();
    let mut at = end;
    let first = cover[end].map_or(0, |(start, ..)| start);
    while at > first {
        let Some((_, _, s)) = cover[at] else { break };
        found.push(list.word(&token[bounds[s]..bounds[at]]));
        at = s;
    }
    found.reverse();
    let whole = first == 0 && end == last;
    if !whole {
        out.push(None);
    }
    out.extend(found);
    if !whole {
        out.push(None);
    }
}
