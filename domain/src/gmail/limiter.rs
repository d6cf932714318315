//! Gmail's per-user quota (250 units per second as a moving average), enforced on our
//! side so that a sync runs just under the ceiling instead of bouncing off 429s.
//!
//! The limiter is a token bucket kept as a "theoretical arrival time" (GCRA): each call
//! reserves its units in arrival order, so waiting calls are served first come, first
//! served and the bucket never admits more than `burst + rate * t` units in any
//! interval `t`. Keeping `burst + rate` at or under 250 keeps every one-second window
//! within the quota. A 429 pauses the whole bucket, since every call of the account
//! would be refused alike.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;
use uuid::Uuid;

/// Quota settings of one account.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuotaConfig {
    /// Sustained units per second; `None` disables rate limiting (fakes without quota).
    pub units_per_second: Option<f64>,
    /// Units that may be spent at once after an idle spell.
    pub burst: f64,
    /// Calls in flight at once, whatever the quota.
    pub concurrency: usize,
}

impl QuotaConfig {
    /// No rate limit, only bounded concurrency: for servers without quota.
    pub fn unlimited(concurrency: usize) -> Self {
        Self {
            units_per_second: None,
            burst: 0.0,
            concurrency,
        }
    }
}

impl Default for QuotaConfig {
    /// 245 units/s with a burst of one `messages.get`: 98% of the quota, so that
    /// `burst + rate` stays at 250 while small clock and network jitter does not cross
    /// the line. 32 calls in flight cover round trips of up to ~0.6 s at full rate.
    fn default() -> Self {
        Self {
            units_per_second: Some(245.0),
            burst: 5.0,
            concurrency: 32,
        }
    }
}

/// The limiter of one account, shared by all its concurrent calls.
#[derive(Debug)]
pub struct QuotaLimiter {
    config: QuotaConfig,
    slots: Semaphore,
    state: Mutex<Bucket>,
}

#[derive(Debug)]
struct Bucket {
    /// When the bucket would be full again if nothing else were taken.
    full_at: Instant,
    /// No call starts before this (after a 429).
    paused_until: Instant,
}

/// Permission for one call: holds a concurrency slot until dropped.
#[derive(Debug)]
pub struct Admission<'a> {
    _slot: SemaphorePermit<'a>,
}

impl QuotaLimiter {
    pub fn new(config: QuotaConfig) -> Self {
        let now = Instant::now();
        Self {
            slots: Semaphore::new(config.concurrency.max(1)),
            state: Mutex::new(Bucket {
                full_at: now,
                paused_until: now,
            }),
            config,
        }
    }

    pub fn config(&self) -> QuotaConfig {
        self.config
    }

    /// Waits for a concurrency slot and for `units` of quota.
    pub async fn admit(&self, units: u32) -> Admission<'_> {
        let slot = self
            .slots
            .acquire()
            .await
            .expect("the limiter's semaphore is never closed");
        loop {
            let start = self.reserve(units);
            tokio::time::sleep_until(start).await;
            // A 429 seen by another call while this one slept moves the start.
            let paused_until = self.state.lock().expect("bucket lock").paused_until;
            if paused_until <= Instant::now() {
                return Admission { _slot: slot };
            }
        }
    }

    /// Reserves `units` and returns when they may be spent.
    fn reserve(&self, units: u32) -> Instant {
        let mut bucket = self.state.lock().expect("bucket lock");
        let now = Instant::now();
        let Some(rate) = self.config.units_per_second else {
            return bucket.paused_until.max(now);
        };
        let base = bucket.full_at.max(now).max(bucket.paused_until);
        let full_at = base + Duration::from_secs_f64(f64::from(units) / rate);
        bucket.full_at = full_at;
        let start = full_at
            .checked_sub(Duration::from_secs_f64(self.config.burst.max(0.0) / rate))
            .unwrap_or(now);
        start.max(now).max(bucket.paused_until)
    }

    /// Stops all calls of the account for `wait` (Google's `Retry-After`), and starts
    /// again with an empty bucket so the first calls after the pause do not burst.
    pub fn pause(&self, wait: Duration) {
        let mut bucket = self.state.lock().expect("bucket lock");
        let until = Instant::now() + wait;
        if until > bucket.paused_until {
            bucket.paused_until = until;
        }
        if until > bucket.full_at {
            bucket.full_at = until;
        }
    }
}

/// One limiter per account, shared by every sync and reconcile of that account in this
/// process.
#[derive(Debug, Default)]
pub struct Limiters {
    config: QuotaConfig,
    by_account: Mutex<HashMap<Uuid, Arc<QuotaLimiter>>>,
}

impl Limiters {
    pub fn new(config: QuotaConfig) -> Self {
        Self {
            config,
            by_account: Mutex::default(),
        }
    }

    pub fn for_account(&self, account: Uuid) -> Arc<QuotaLimiter> {
        Arc::clone(
            self.by_account
                .lock()
                .expect("limiter map lock")
                .entry(account)
                .or_insert_with(|| Arc::new(QuotaLimiter::new(self.config))),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn spends_at_most_burst_plus_rate_per_second() {
        let limiter = QuotaLimiter::new(QuotaConfig {
            units_per_second: Some(100.0),
            burst: 10.0,
            concurrency: 1000,
        });
        let started = Instant::now();
        let mut within_first_second = 0;
        for _ in 0..100 {
            let _a = limiter.admit(5).await;
            if started.elapsed() < Duration::from_secs(1) {
                within_first_second += 5;
            }
        }
        assert!(within_first_second <= 110, "{within_first_second}");
        assert!(within_first_second >= 100, "{within_first_second}");
        let total = started.elapsed();
        assert!(total >= Duration::from_millis(4890) && total <= Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_everyone() {
        let limiter = QuotaLimiter::new(QuotaConfig::default());
        let started = Instant::now();
        drop(limiter.admit(5).await);
        limiter.pause(Duration::from_secs(2));
        drop(limiter.admit(1).await);
        assert!(started.elapsed() >= Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn unlimited_only_bounds_concurrency() {
        let limiter = QuotaLimiter::new(QuotaConfig::unlimited(2));
        let a = limiter.admit(5).await;
        let _b = limiter.admit(5).await;
        let third = tokio::time::timeout(Duration::from_millis(10), limiter.admit(5)).await;
        assert!(third.is_err(), "a third call waits for a slot");
        drop(a);
        let _c = limiter.admit(5).await;
    }
}
