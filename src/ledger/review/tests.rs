use jiff::Timestamp;
use rust_decimal::Decimal;

use super::*;

fn row(kind: Kind, account: &str, minute: i64, sats: i64) -> Tx {
    Tx {
        id: None,
        time: Timestamp::from_second(1_700_000_000 + minute * 60).expect("time"),
        kind,
        account: account.into(),
        btc: Sats(sats),
        fee_btc: Sats::ZERO,
        fiat_value: None,
        currency: None,
        fee_fiat: Decimal::ZERO,
        to_account: None,
        txid: None,
        note: None,
    }
}

/// Stored rows 10, 11, 12: an exchange withdrawal, the matching deposit into
/// cold storage 30 minutes later, and a deposit from nowhere.
fn stored() -> Vec<(RowRef, Tx)> {
    vec![
        (10, row(Kind::Withdrawal, "exchange", 0, 50_000_000)),
        (11, row(Kind::Deposit, "cold", 30, 49_990_000)),
        (12, row(Kind::Deposit, "cold", 9_000, 1_000_000)),
    ]
}

#[test]
fn without_decisions_matching_pairs_and_queues_the_rest() {
    let book = resolve(&stored(), &[]);
    assert_eq!(book.pairs, vec![(10, 11, PairedBy::Amounts)]);
    assert_eq!(book.rows.len(), 2);
    assert_eq!(book.rows[0].kind, Kind::Transfer);
    assert_eq!(book.origin, vec![10, 12]);
    assert_eq!(
        book.queue,
        vec![Item {
            row: 12,
            reason: Reason::Unmatched,
            candidates: vec![]
        }]
    );
}

#[test]
fn reclassifying_an_unexplained_deposit_as_income_clears_it_from_review() {
    let decision = Adjustment::Reclassify {
        row: 12,
        kind: Kind::Income,
        fiat_value: Some(Decimal::from(370)),
        currency: Some("USD".into()),
    };
    let book = resolve(&stored(), &[decision]);
    assert!(book.queue.is_empty());
    let income = &book.rows[book.index_of(12).expect("row")];
    assert_eq!(income.kind, Kind::Income);
    assert_eq!(income.fiat_value, Some(Decimal::from(370)));
    // The imported row itself is untouched.
    assert_eq!(stored()[2].1.kind, Kind::Deposit);
}

#[test]
fn unpairing_takes_both_rows_out_of_matching_and_undoing_restores_the_pair() {
    let unpair = Adjustment::Unpair {
        withdrawal: 10,
        deposit: 11,
    };
    let book = resolve(&stored(), std::slice::from_ref(&unpair));
    assert!(book.pairs.is_empty());
    assert_eq!(book.rows.len(), 3);
    let reasons: Vec<(RowRef, Reason)> = book.queue.iter().map(|i| (i.row, i.reason)).collect();
    assert_eq!(
        reasons,
        vec![
            (12, Reason::Unmatched),
            (10, Reason::Unpaired),
            (11, Reason::Unpaired)
        ]
    );
    // Undoing is resolving without the decision: back to the matched pair.
    assert_eq!(resolve(&stored(), &[]).pairs.len(), 1);
}

#[test]
fn a_hand_made_pair_joins_rows_matching_would_not() {
    // The withdrawal of 0.5 BTC and the late deposit of 0.01 BTC: no
    // matching rule fits, but the user says they are one transfer (the rest
    // was lost to fees, say). Unpair the automatic pair first.
    let decisions = [
        Adjustment::Unpair {
            withdrawal: 10,
            deposit: 11,
        },
        Adjustment::Pair {
            withdrawal: 10,
            deposit: 12,
        },
    ];
    let book = resolve(&stored(), &decisions);
    assert_eq!(book.pairs, vec![(10, 12, PairedBy::User)]);
    let transfer = &book.rows[book.index_of(10).expect("row")];
    assert_eq!(transfer.kind, Kind::Transfer);
    assert_eq!(transfer.btc, Sats(1_000_000));
    assert_eq!(transfer.fee_btc, Sats(49_000_000));
    assert_eq!(
        book.queue.iter().map(|i| i.row).collect::<Vec<_>>(),
        vec![11]
    );
}

#[test]
fn checks_refuse_what_cannot_be_and_say_why() {
    let rows = stored();
    let book = resolve(&rows, &[]);
    let pair = |w, d| Adjustment::Pair {
        withdrawal: w,
        deposit: d,
    };
    assert_eq!(
        check(&rows, &book, &pair(10, 12)),
        Err(Refusal::AlreadyPaired(10))
    );
    assert_eq!(
        check(&rows, &book, &pair(99, 12)),
        Err(Refusal::UnknownRow(99))
    );
    assert_eq!(
        check(&rows, &book, &pair(12, 11)),
        Err(Refusal::AlreadyPaired(11))
    );
    let to_sell = Adjustment::Reclassify {
        row: 12,
        kind: Kind::Sell,
        fiat_value: None,
        currency: None,
    };
    assert_eq!(
        check(&rows, &book, &to_sell),
        Err(Refusal::Direction {
            from: Kind::Deposit,
            to: Kind::Sell
        })
    );
    let unpair_wrong = Adjustment::Unpair {
        withdrawal: 10,
        deposit: 12,
    };
    assert_eq!(
        check(&rows, &book, &unpair_wrong),
        Err(Refusal::NotPaired(10, 12))
    );
    let mut same = rows.clone();
    same[1].1.account = "exchange".into();
    let unpaired = resolve(
        &same,
        &[Adjustment::Unpair {
            withdrawal: 10,
            deposit: 11,
        }],
    );
    assert_eq!(
        check(&same, &unpaired, &pair(10, 11)),
        Err(Refusal::SameAccount)
    );
}

#[test]
fn picked_lots_are_named_by_their_place_in_the_book() {
    let mut rows = stored();
    rows.push((20, row(Kind::Buy, "cold", -100, 30_000_000)));
    rows.push((21, row(Kind::Sell, "cold", 10_000, 20_000_000)));
    let pick = Adjustment::PickLots {
        disposal: 21,
        lots: vec![(20, Sats(5_000_000))],
    };
    let book = resolve(&rows, std::slice::from_ref(&pick));
    assert_eq!(check(&rows, &book, &pick), Ok(()));
    let (d, b) = (
        book.index_of(21).expect("sell"),
        book.index_of(20).expect("buy"),
    );
    assert_eq!(book.picks[&d], vec![(b, Sats(5_000_000))]);
    let too_much = Adjustment::PickLots {
        disposal: 21,
        lots: vec![(20, Sats(25_000_000))],
    };
    assert_eq!(check(&rows, &book, &too_much), Err(Refusal::PickedTooMuch));
    let later = Adjustment::PickLots {
        disposal: 21,
        lots: vec![(12, Sats(1))],
    };
    assert_eq!(check(&rows, &book, &later), Ok(()));
    let after = Adjustment::PickLots {
        disposal: 10,
        lots: vec![(20, Sats(1))],
    };
    assert_eq!(
        check(&rows, &book, &after),
        Err(Refusal::NotDisposal(10, Kind::Withdrawal))
    );
}

fn with_id(id: &str, tx: Tx) -> Tx {
    Tx {
        id: Some(id.into()),
        ..tx
    }
}

/// An exchange account synced over the API (rows 30, 31) and its export
/// without ids (rows 40, 41, 42), the export's withdrawal dated a minute early.
fn copies() -> Vec<(RowRef, Tx)> {
    vec![
        (
            30,
            with_id("api-buy", row(Kind::Buy, "Binance", 0, 2_000_000)),
        ),
        (
            31,
            with_id("api-out", row(Kind::Withdrawal, "Binance", 60, 1_500_000)),
        ),
        (40, row(Kind::Buy, "Binance", 0, 2_000_000)),
        (41, row(Kind::Withdrawal, "Binance", 59, 1_500_000)),
        (42, row(Kind::Buy, "Binance", 500, 3_000_000)),
        (50, row(Kind::Deposit, "cold", 90, 1_490_000)),
    ]
}

#[test]
fn an_export_without_ids_and_the_api_bring_each_entry_once() {
    let book = resolve(&copies(), &[]);
    assert_eq!(
        book.duplicates,
        vec![(40, 30, PairedBy::Amounts), (41, 31, PairedBy::Amounts)]
    );
    let mut kept = book.origin.clone();
    kept.sort_unstable();
    assert_eq!(kept, vec![30, 31, 42], "the copies are left out");
    let bought: i64 = book
        .rows
        .iter()
        .filter(|t| t.kind == Kind::Buy)
        .map(|t| t.btc.0)
        .sum();
    assert_eq!(bought, 5_000_000);
    // With its copy gone, the API's withdrawal pairs with the cold deposit.
    assert_eq!(book.pairs, vec![(31, 50, PairedBy::Amounts)]);
    assert!(book.queue.is_empty(), "{:?}", book.queue);
}

#[test]
fn a_doubtful_copy_waits_for_the_user_who_can_settle_it_either_way() {
    let mut rows = copies();
    // A second API buy of the same size 30 seconds later: row 40 could be
    // either, so nothing is dropped and the row is queued.
    rows.push((
        32,
        with_id("api-buy-2", row(Kind::Buy, "Binance", 0, 2_000_000)),
    ));
    rows[6].1.time = Timestamp::from_second(1_700_000_030).expect("time");
    let book = resolve(&rows, &[]);
    assert_eq!(book.duplicates, vec![(41, 31, PairedBy::Amounts)]);
    assert_eq!(
        book.queue,
        vec![Item {
            row: 40,
            reason: Reason::Duplicate,
            candidates: vec![30, 32],
        }]
    );
    assert!(book.index_of(40).is_some(), "kept until decided");

    let same = Adjustment::Duplicate { row: 40, of: 32 };
    assert_eq!(check(&rows, &book, &same), Ok(()));
    let decided = resolve(&rows, std::slice::from_ref(&same));
    assert!(decided.queue.is_empty());
    assert!(decided.index_of(40).is_none());
    assert!(decided.duplicates.contains(&(40, 32, PairedBy::User)));

    let own = Adjustment::Distinct { row: 40 };
    assert_eq!(check(&rows, &book, &own), Ok(()));
    let decided = resolve(&rows, std::slice::from_ref(&own));
    assert!(decided.queue.is_empty());
    assert!(decided.index_of(40).is_some());

    // And an automatic match the user says is wrong is undone the same way.
    let not_a_copy = Adjustment::Distinct { row: 41 };
    let decided = resolve(&rows, std::slice::from_ref(&not_a_copy));
    assert!(decided.index_of(41).is_some());
    assert!(!decided.duplicates.iter().any(|(c, _, _)| *c == 41));
}

#[test]
fn a_copy_must_be_of_a_row_in_the_same_account_moving_the_same_way() {
    let rows = copies();
    let book = resolve(&rows, &[]);
    let refuse = |decision: Adjustment| check(&rows, &book, &decision);
    assert_eq!(
        refuse(Adjustment::Duplicate { row: 42, of: 42 }),
        Err(Refusal::SelfCopy)
    );
    assert_eq!(
        refuse(Adjustment::Duplicate { row: 50, of: 31 }),
        Err(Refusal::CopyElsewhere(50, 31))
    );
    assert_eq!(
        refuse(Adjustment::Duplicate { row: 42, of: 31 }),
        Err(Refusal::CopyOpposite(42, 31))
    );
    assert_eq!(
        refuse(Adjustment::Duplicate { row: 42, of: 40 }),
        Err(Refusal::AlreadyCopy(40))
    );
    assert_eq!(
        refuse(Adjustment::Duplicate { row: 42, of: 99 }),
        Err(Refusal::UnknownRow(99))
    );
    assert_eq!(refuse(Adjustment::Duplicate { row: 42, of: 30 }), Ok(()));
}
