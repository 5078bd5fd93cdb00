//! How many refused deliveries get an audit entry each. A flood of
//! deliveries with a bad signature (a misconfigured sender, or someone
//! probing) must not fill the audit log: each integration gets an entry for
//! each of the first [`AUDITED_PER_WINDOW`] refusals of a minute, one entry
//! when that is exceeded, and one summary with the count of the rest when
//! the minute is over. Every refusal is still counted exactly in the
//! integration's row. Pure: the time is a parameter.

/// Refusals audited one by one per window and integration.
pub const AUDITED_PER_WINDOW: u32 = 10;
/// Seconds; a window starts at the first refusal after the previous one.
pub const WINDOW: i64 = 60;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Window {
    start: i64,
    audited: u32,
    suppressed: u64,
}

/// Refusals of a past window that got no entry of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unlogged {
    pub from: i64,
    pub to: i64,
    pub count: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// This refusal gets its own entry.
    pub audit: bool,
    /// This refusal is the first beyond the limit: say so, once.
    pub flood: bool,
    /// A past window to sum up first.
    pub summary: Option<Unlogged>,
}

impl Window {
    fn fresh(&self) -> bool {
        self.audited == 0 && self.suppressed == 0
    }

    /// Closes the window if it is over, giving what it left unlogged.
    pub fn close_if_over(&mut self, now: i64) -> Option<Unlogged> {
        if self.fresh() || now < self.start + WINDOW {
            return None;
        }
        let unlogged = (self.suppressed > 0).then_some(Unlogged {
            from: self.start,
            to: self.start + WINDOW,
            count: self.suppressed,
        });
        *self = Window::default();
        unlogged
    }

    /// One more refusal at `now`.
    pub fn record(&mut self, now: i64) -> Decision {
        let summary = self.close_if_over(now);
        if self.fresh() {
            self.start = now;
        }
        if self.audited < AUDITED_PER_WINDOW {
            self.audited += 1;
            Decision {
                audit: true,
                flood: false,
                summary,
            }
        } else {
            self.suppressed += 1;
            Decision {
                audit: false,
                flood: self.suppressed == 1,
                summary,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_gets_ten_entries_a_warning_and_one_summary() {
        let mut w = Window::default();
        let decisions: Vec<Decision> = (0..25).map(|k| w.record(1_000 + k / 5)).collect();
        assert_eq!(decisions.iter().filter(|d| d.audit).count(), 10);
        assert_eq!(decisions.iter().filter(|d| d.flood).count(), 1);
        assert!(decisions[10].flood);
        assert!(decisions.iter().all(|d| d.summary.is_none()));
        // Still within the minute: counted, not logged.
        assert!(!w.record(1_059).audit);
        // The next minute: the summary of the 16 unlogged ones, and this
        // refusal is audited again.
        let next = w.record(1_060);
        assert_eq!(
            next.summary,
            Some(Unlogged {
                from: 1_000,
                to: 1_060,
                count: 16
            })
        );
        assert!(next.audit && !next.flood);
    }

    #[test]
    fn a_quiet_window_closes_without_a_summary() {
        let mut w = Window::default();
        for k in 0..3 {
            assert!(w.record(k).audit);
        }
        assert_eq!(w.close_if_over(30), None);
        assert_eq!(w.close_if_over(61), None);
        let mut flooded = Window::default();
        for k in 0..12 {
            flooded.record(k);
        }
        assert_eq!(
            flooded.close_if_over(100).map(|u| u.count),
            Some(2),
            "flushed without a new refusal"
        );
        assert_eq!(flooded.close_if_over(200), None);
    }
}
