//! Folding repeated refusals, so that a caller hammering a forbidden action cannot flood the
//! ledger.
//!
//! Every refusal of an authenticated caller is recorded as an `access_denied` event, but the
//! same refusal (same caller, action, target and reason) repeated within [`DENIAL_WINDOW_MS`] is
//! folded: not appended again, only counted, and the count travels in the next `access_denied`
//! event of that key (`repeats_folded`). One fuzzing pass used to add thousands of identical
//! events; now it adds about one per key and minute, and says how many it stands for.
//!
//! The state is per process (several instances each fold their own), bounded by
//! [`DENIAL_KEYS_MAX`]; folding never hides the first refusal of a key in a window.

use std::collections::HashMap;
use std::sync::Mutex;

use changegate_core::Timestamp;
use changegate_core::civil::MINUTE_MS;

/// How long an identical refusal is folded after one was recorded.
pub const DENIAL_WINDOW_MS: i64 = MINUTE_MS;
/// Most refusal keys remembered; past it the oldest windows are forgotten (their next refusal is
/// recorded, which only errs towards recording).
pub const DENIAL_KEYS_MAX: usize = 10_000;

/// What identifies "the same refusal".
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct DenialKey {
    pub(crate) actor: String,
    pub(crate) action: String,
    pub(crate) target: String,
    pub(crate) reason: String,
}

#[derive(Clone, Copy, Debug)]
struct Window {
    recorded_at: Timestamp,
    folded: u64,
}

/// Whether to record a refusal now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Record it, with the number of identical refusals folded since the last one recorded.
    Record { repeats_folded: u64 },
    /// Count it only.
    Fold,
}

#[derive(Debug, Default)]
pub(crate) struct DenialThrottle {
    windows: Mutex<HashMap<DenialKey, Window>>,
}

impl DenialThrottle {
    pub(crate) fn admit(&self, key: DenialKey, now: Timestamp) -> Verdict {
        let mut windows = self.windows.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(window) = windows.get_mut(&key) {
            if now.since_ms(window.recorded_at) < DENIAL_WINDOW_MS && now >= window.recorded_at {
                window.folded += 1;
                return Verdict::Fold;
            }
            let repeats_folded = window.folded;
            *window = Window { recorded_at: now, folded: 0 };
            return Verdict::Record { repeats_folded };
        }
        if windows.len() >= DENIAL_KEYS_MAX {
            // Forget the windows that have closed; if none has, forget them all.
            windows.retain(|_, window| now.since_ms(window.recorded_at) < DENIAL_WINDOW_MS);
            if windows.len() >= DENIAL_KEYS_MAX {
                windows.clear();
            }
        }
        windows.insert(key, Window { recorded_at: now, folded: 0 });
        Verdict::Record { repeats_folded: 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(reason: &str) -> DenialKey {
        DenialKey { actor: "rita".into(), action: "create_user".into(), target: "user/x".into(), reason: reason.into() }
    }

    #[test]
    fn identical_refusals_in_a_window_are_folded_and_counted_in_the_next_record() {
        let throttle = DenialThrottle::default();
        let start = Timestamp::from_unix_ms(1_800_000_000_000);
        assert_eq!(throttle.admit(key("no"), start), Verdict::Record { repeats_folded: 0 });
        for second in 1..=5 {
            assert_eq!(throttle.admit(key("no"), start.plus_ms(second * 1_000)), Verdict::Fold);
        }
        // Another refusal is another key: recorded at once.
        assert_eq!(throttle.admit(key("other"), start.plus_ms(2_000)), Verdict::Record { repeats_folded: 0 });
        // After the window, the next identical one is recorded with what was folded.
        let later = start.plus_ms(DENIAL_WINDOW_MS);
        assert_eq!(throttle.admit(key("no"), later), Verdict::Record { repeats_folded: 5 });
        assert_eq!(throttle.admit(key("no"), later.plus_ms(1)), Verdict::Fold);
    }

    #[test]
    fn memory_stays_bounded() {
        let throttle = DenialThrottle::default();
        let now = Timestamp::from_unix_ms(0);
        for number in 0..DENIAL_KEYS_MAX + 10 {
            throttle.admit(key(&number.to_string()), now);
        }
        assert!(throttle.windows.lock().unwrap().len() <= DENIAL_KEYS_MAX);
    }
}
