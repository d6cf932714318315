//! Deliberate misbehaviour for resilience tests: a fraction of Gmail API
//! calls fail with 500/503 and every call can be slowed down.
//!
//! Failures are chosen by hashing the seed with the call's sequence number
//! rather than by a shared RNG, so a run with the same seed and the same
//! call order fails the same calls, and the observed rate converges on the
//! configured fraction.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::config::FaultConfig;
use super::errors::ApiError;

/// SplitMix64 finaliser: a cheap, well-mixed 64-bit hash.
pub(crate) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

pub(crate) struct Faults {
    config: Mutex<FaultConfig>,
    calls: AtomicU64,
}

impl Faults {
    pub(crate) fn new(config: FaultConfig) -> Self {
        Faults {
            config: Mutex::new(config),
            calls: AtomicU64::new(0),
        }
    }

    pub(crate) fn get(&self) -> FaultConfig {
        self.config.lock().expect("fault config lock").clone()
    }

    /// Replaces the settings and restarts the call sequence, so a test that
    /// sets faults sees the same failures on every run.
    pub(crate) fn set(&self, config: FaultConfig) {
        *self.config.lock().expect("fault config lock") = config;
        self.calls.store(0, Ordering::SeqCst);
    }

    pub(crate) fn latency(&self) -> Duration {
        self.config.lock().expect("fault config lock").latency
    }

    /// Decides the fate of the next Gmail API call: `Some` error to answer
    /// instead of serving it. Half of the failures are 500, half 503.
    pub(crate) fn next_failure(&self) -> Option<ApiError> {
        let (rate, seed) = {
            let c = self.config.lock().expect("fault config lock");
            (c.error_rate, c.seed)
        };
        if rate <= 0.0 {
            return None;
        }
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        let h = mix(seed ^ mix(n));
        let unit = (h >> 11) as f64 / (1u64 << 53) as f64;
        (unit < rate).then(|| {
            if h & 1 == 0 {
                ApiError::backend_error()
            } else {
                ApiError::unavailable()
            }
        })
    }
}
