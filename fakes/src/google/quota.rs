//! Gmail's per-user rate limit: 250 quota units per user per second,
//! "as a moving average" in Google's words.
//!
//! The moving average is modelled as a sliding one-second window: a call is
//! admitted when the units admitted in the last second plus its own cost
//! stay within 250. A rejected call consumes nothing, so a client that
//! honours `Retry-After` always gets through, and a client that never
//! exceeds 250 units in any second is never refused. Short bursts of up to
//! 250 units at once are allowed, as they are on Gmail.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Units per user per second.
pub const USER_UNITS_PER_SECOND: u32 = 250;
const WINDOW: Duration = Duration::from_secs(1);

/// Cost of each implemented Gmail method, from Google's quota table.
pub(crate) fn cost(method: &str) -> u32 {
    match method {
        "users.getProfile" | "users.labels.list" => 1,
        "users.history.list" => 2,
        _ => 5,
    }
}

/// One user's admitted calls within the last second.
#[derive(Default)]
pub(crate) struct Window {
    admitted: VecDeque<(Instant, u32)>,
    sum: u32,
}

impl Window {
    /// Admits the call or says how long until it would fit.
    pub(crate) fn admit(&mut self, now: Instant, units: u32) -> Result<(), Duration> {
        while let Some(&(at, u)) = self.admitted.front() {
            if now.duration_since(at) < WINDOW {
                break;
            }
            self.sum -= u;
            self.admitted.pop_front();
        }
        if self.sum + units <= USER_UNITS_PER_SECOND {
            self.admitted.push_back((now, units));
            self.sum += units;
            return Ok(());
        }
        // Wait until enough of the oldest calls leave the window.
        let mut freed = 0;
        for &(at, u) in &self.admitted {
            freed += u;
            if self.sum - freed + units <= USER_UNITS_PER_SECOND {
                return Err((at + WINDOW).saturating_duration_since(now));
            }
        }
        Err(WINDOW)
    }
}

/// Runtime switch, flipped by the control API.
pub(crate) struct QuotaSwitch(AtomicBool);

impl QuotaSwitch {
    pub(crate) fn new(enabled: bool) -> Self {
        QuotaSwitch(AtomicBool::new(enabled))
    }

    pub(crate) fn enabled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    pub(crate) fn set(&self, enabled: bool) {
        self.0.store(enabled, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_admits_up_to_250_and_frees_after_a_second() {
        let mut w = Window::default();
        let t0 = Instant::now();
        for _ in 0..50 {
            w.admit(t0, 5).unwrap();
        }
        let wait = w.admit(t0 + Duration::from_millis(200), 5).unwrap_err();
        assert_eq!(wait, Duration::from_millis(800));
        for _ in 0..50 {
            w.admit(t0 + WINDOW, 5).unwrap();
        }
        assert!(w.admit(t0 + WINDOW, 1).is_err());
    }
}
