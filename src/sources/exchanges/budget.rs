//! A client-side rate budget: a counter that each call raises by its cost
//! and that decays at a steady rate, like Kraken's per-key counter. A call
//! that would overflow it waits instead of being sent, because an exchange
//! that sees too many calls may lock the key out for minutes.

/// Kraken's Starter tier: at most 15, decaying by 0.33 a second. The tier
/// cannot be read from the API, so the lowest is assumed.
pub const KRAKEN_STARTER: Budget = Budget::new(15_000, 330);

/// Counts in thousandths, so the decay stays an integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    max: u64,
    decay_per_second: u64,
    level: u64,
    at_ms: u64,
}

impl Budget {
    /// `max` and `decay_per_second` in thousandths of a call.
    pub const fn new(max: u64, decay_per_second: u64) -> Budget {
        Budget {
            max,
            decay_per_second,
            level: 0,
            at_ms: 0,
        }
    }

    fn decay(&mut self, now_ms: u64) {
        let elapsed = now_ms.saturating_sub(self.at_ms);
        let drained = elapsed.saturating_mul(self.decay_per_second) / 1000;
        self.level = self.level.saturating_sub(drained);
        self.at_ms = self.at_ms.max(now_ms);
    }

    /// Spends `cost` calls (Kraken: 2 for ledger and trade history, 1 for
    /// others) at `now_ms`, or says how many milliseconds to wait first.
    pub fn spend(&mut self, cost: u64, now_ms: u64) -> Result<(), u64> {
        self.decay(now_ms);
        let cost = cost * 1000;
        if self.level + cost <= self.max {
            self.level += cost;
            return Ok(());
        }
        let excess = self.level + cost - self.max;
        Err(excess
            .saturating_mul(1000)
            .div_ceil(self.decay_per_second.max(1)))
    }

    /// After the exchange said "rate limited" anyway (another program on
    /// the key, a lower tier): treat the budget as spent.
    pub fn exhausted(&mut self, now_ms: u64) {
        self.decay(now_ms);
        self.level = self.max;
    }

    /// The exchange reported `used` calls (or weight) spent already, by
    /// this client and any other on the same key or address (Binance's
    /// `X-MBX-USED-WEIGHT-1M`): the budget is at least that full.
    pub fn observe(&mut self, used: u64, now_ms: u64) {
        self.decay(now_ms);
        self.level = self.level.max(used.saturating_mul(1000));
    }
}

#[cfg(test)]
mod tests {
    use super::{Budget, KRAKEN_STARTER};

    #[test]
    fn history_calls_fit_seven_at_once_then_wait_for_the_decay() {
        let mut budget = KRAKEN_STARTER;
        for _ in 0..7 {
            assert_eq!(budget.spend(2, 0), Ok(()));
        }
        // 14 of 15 used: the next history call needs 1 more, 1/0.33 s.
        assert_eq!(budget.spend(2, 0), Err(3031));
        assert_eq!(budget.spend(2, 3031), Ok(()));
        assert_eq!(budget.spend(1, 3031), Err(3031));
    }

    #[test]
    fn weight_reported_by_the_exchange_fills_the_budget() {
        // Binance weights: 5,000 a minute here.
        let mut budget = Budget::new(5_000_000, 83_333);
        assert_eq!(budget.spend(20, 0), Ok(()));
        budget.observe(4_990, 0);
        assert!(budget.spend(20, 0).is_err(), "another program spent it");
        budget.observe(10, 0);
        assert!(
            budget.spend(20, 0).is_err(),
            "a lower report never empties it"
        );
        assert_eq!(budget.spend(20, 1_000), Ok(()));
    }

    #[test]
    fn a_rate_limit_answer_empties_the_budget() {
        let mut budget = KRAKEN_STARTER;
        assert_eq!(budget.spend(1, 0), Ok(()));
        budget.exhausted(0);
        assert!(budget.spend(1, 0).is_err());
        assert_eq!(
            budget.spend(1, 60_000),
            Ok(()),
            "a minute later it has drained"
        );
    }
}
