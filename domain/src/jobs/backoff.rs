//! Retry delays: exponential, capped, with jitter so that jobs failing together (an
//! outage) do not all retry in the same instant.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Delay after the first failed attempt (before jitter).
    pub base: Duration,
    /// Upper bound for any delay.
    pub max: Duration,
}

impl Backoff {
    pub const fn new(base: Duration, max: Duration) -> Self {
        Self { base, max }
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(10),
            max: Duration::from_secs(60 * 60),
        }
    }
}

impl Backoff {
    /// The delay after failed attempt number `attempt` (1-based): `base * 2^(attempt-1)`,
    /// capped at `max`, then scaled into `[50%, 100%]` by `unit` (a random number in
    /// `[0, 1)`), which keeps retries spread out but never later than the schedule.
    pub fn delay(&self, attempt: i32, unit: f64) -> Duration {
        let exponent = attempt.saturating_sub(1).clamp(0, 30) as u32;
        let scheduled = self
            .base
            .checked_mul(1 << exponent)
            .unwrap_or(self.max)
            .min(self.max);
        scheduled.mul_f64(0.5 + 0.5 * unit.clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_per_attempt_within_the_jitter_band_and_caps() {
        let b = Backoff {
            base: Duration::from_secs(10),
            max: Duration::from_secs(300),
        };
        assert_eq!(b.delay(1, 1.0), Duration::from_secs(10));
        assert_eq!(b.delay(1, 0.0), Duration::from_secs(5));
        assert_eq!(b.delay(3, 1.0), Duration::from_secs(40));
        assert_eq!(b.delay(4, 0.5), Duration::from_secs(60));
        assert_eq!(b.delay(10, 1.0), Duration::from_secs(300));
        assert_eq!(b.delay(i32::MAX, 1.0), Duration::from_secs(300));
        assert_eq!(b.delay(0, 1.0), Duration::from_secs(10));
    }
}
