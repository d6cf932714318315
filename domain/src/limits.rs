//! In-memory limits shared by the web server's handlers and the server functions: a
//! [`RateLimiter`] (a token bucket per key: requests per minute, with a burst of the
//! same size) for model calls per user and webhooks per channel, and [`StreamSlots`] for
//! the number of Server-Sent Event streams open per user and in total. They live in the
//! process: with several server processes each enforces its own share.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::UserId;

/// A refusal: what was limited and when trying again can succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Limited {
    /// The sentence the caller reads.
    pub message: String,
    /// At least one second.
    pub retry_after: Duration,
}

impl Limited {
    pub fn new(message: impl Into<String>, retry_after: Duration) -> Self {
        Self {
            message: message.into(),
            retry_after: retry_after.max(Duration::from_secs(1)),
        }
    }

    /// Whole seconds, rounded up, for a `Retry-After` header.
    pub fn retry_after_secs(&self) -> u64 {
        let d = self.retry_after;
        d.as_secs() + u64::from(d.subsec_nanos() > 0)
    }
}

/// Buckets kept before full (idle) ones are forgotten.
const PRUNE_ABOVE: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// A token bucket per key: `per_minute` requests a minute, refilled continuously, and up
/// to `per_minute` at once after a quiet minute. `per_minute == 0` switches it off.
#[derive(Debug, Clone)]
pub struct RateLimiter<K> {
    per_minute: u32,
    what: &'static str,
    buckets: Arc<Mutex<HashMap<K, Bucket>>>,
}

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    /// `what` names the limited thing in the refusal ("model calls", "webhooks").
    pub fn per_minute(per_minute: u32, what: &'static str) -> Self {
        Self {
            per_minute,
            what,
            buckets: Arc::default(),
        }
    }

    pub fn limit(&self) -> u32 {
        self.per_minute
    }

    /// Takes one request from `key`'s budget, or says how long until one is there.
    pub fn check(&self, key: &K) -> Result<(), Limited> {
        self.check_at(key, Instant::now())
    }

    fn check_at(&self, key: &K, now: Instant) -> Result<(), Limited> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let capacity = f64::from(self.per_minute);
        let per_sec = capacity / 60.0;
        let mut buckets = lock(&self.buckets);
        if buckets.len() > PRUNE_ABOVE {
            buckets.retain(|_, b| refilled(*b, now, per_sec, capacity) < capacity);
        }
        let bucket = buckets.entry(key.clone()).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        bucket.tokens = refilled(*bucket, now, per_sec, capacity);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        let wait = Duration::from_secs_f64((1.0 - bucket.tokens) / per_sec);
        Err(Limited::new(
            format!(
                "Too many {} (at most {} a minute); try again in {} s.",
                self.what,
                self.per_minute,
                wait.as_secs().max(1)
            ),
            wait,
        ))
    }
}

fn refilled(bucket: Bucket, now: Instant, per_sec: f64, capacity: f64) -> f64 {
    let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
    (bucket.tokens + elapsed * per_sec).min(capacity)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The data stays consistent across a panic: every update is one assignment.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// How long a refused stream is told to wait: streams end when pages close.
const STREAM_RETRY_AFTER: Duration = Duration::from_secs(10);

#[derive(Debug, Default)]
struct Open {
    per_user: HashMap<UserId, usize>,
    total: usize,
}

/// Places for long-lived streams: at most `per_user` open for one user and `total` in all.
#[derive(Debug, Clone)]
pub struct StreamSlots {
    per_user: usize,
    total: usize,
    open: Arc<Mutex<Open>>,
}

/// An open stream's place, given back when dropped (the stream ended or the client left).
#[derive(Debug)]
pub struct StreamSlot {
    user: UserId,
    open: Arc<Mutex<Open>>,
}

impl StreamSlots {
    pub fn new(per_user: usize, total: usize) -> Self {
        Self {
            per_user,
            total,
            open: Arc::default(),
        }
    }

    /// A place for one more of `user`'s streams, or a refusal.
    pub fn acquire(&self, user: UserId) -> Result<StreamSlot, Limited> {
        let mut open = lock(&self.open);
        let mine = open.per_user.get(&user).copied().unwrap_or(0);
        if mine >= self.per_user {
            return Err(Limited::new(
                format!(
                    "Too many open live views (at most {}); close a tab and try again.",
                    self.per_user
                ),
                STREAM_RETRY_AFTER,
            ));
        }
        if open.total >= self.total {
            return Err(Limited::new(
                "Too many live views are open on this server; try again shortly.",
                STREAM_RETRY_AFTER,
            ));
        }
        open.total += 1;
        *open.per_user.entry(user).or_insert(0) += 1;
        Ok(StreamSlot {
            user,
            open: self.open.clone(),
        })
    }

    /// Streams open now (for tests and logs).
    pub fn open(&self) -> usize {
        lock(&self.open).total
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = lock(&self.open);
        open.total = open.total.saturating_sub(1);
        if let Some(count) = open.per_user.get_mut(&self.user) {
            *count -= 1;
            if *count == 0 {
                open.per_user.remove(&self.user);
            }
        }
    }
}

/// Every limit of a running server, built from its settings.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Calls to the language model, per user (the offline engine is not limited).
    pub model_calls: RateLimiter<UserId>,
    /// Webhooks, per ingestion channel.
    pub webhooks: RateLimiter<uuid::Uuid>,
    /// Open Server-Sent Event streams.
    pub streams: StreamSlots,
}

/// The numbers behind [`Limits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitSettings {
    pub model_calls_per_minute: u32,
    pub webhooks_per_minute: u32,
    pub streams_per_user: usize,
    pub streams_total: usize,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            model_calls_per_minute: 20,
            webhooks_per_minute: 600,
            streams_per_user: 8,
            streams_total: 1000,
        }
    }
}

impl Limits {
    pub fn new(settings: LimitSettings) -> Self {
        Self {
            model_calls: RateLimiter::per_minute(settings.model_calls_per_minute, "model calls"),
            webhooks: RateLimiter::per_minute(settings.webhooks_per_minute, "webhooks"),
            streams: StreamSlots::new(settings.streams_per_user, settings.streams_total),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::new(LimitSettings::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_refuses_past_its_limit_and_refills_over_the_minute() {
        let limiter = RateLimiter::per_minute(2, "calls");
        let start = Instant::now();
        assert!(limiter.check_at(&1, start).is_ok());
        assert!(limiter.check_at(&1, start).is_ok());
        let refused = limiter.check_at(&1, start).unwrap_err();
        assert_eq!(refused.retry_after_secs(), 30, "one call every 30 s");
        assert!(refused.message.starts_with("Too many calls"));
        assert!(limiter.check_at(&2, start).is_ok(), "keys are separate");
        assert!(
            limiter
                .check_at(&1, start + Duration::from_secs(30))
                .is_ok()
        );
        assert!(
            limiter
                .check_at(&1, start + Duration::from_secs(31))
                .is_err()
        );
    }

    #[test]
    fn zero_switches_a_limiter_off() {
        let limiter = RateLimiter::per_minute(0, "calls");
        assert!((0..100).all(|_| limiter.check(&1).is_ok()));
    }

    #[test]
    fn stream_slots_are_given_back_when_dropped() {
        let slots = StreamSlots::new(1, 2);
        let (a, b, c) = (
            UserId(uuid::Uuid::new_v4()),
            UserId(uuid::Uuid::new_v4()),
            UserId(uuid::Uuid::new_v4()),
        );
        let first = slots.acquire(a).unwrap();
        assert!(slots.acquire(a).is_err(), "one per user");
        let _second = slots.acquire(b).unwrap();
        assert!(slots.acquire(c).is_err(), "two in all");
        drop(first);
        assert_eq!(slots.open(), 1);
        assert!(slots.acquire(c).is_ok());
    }
}
