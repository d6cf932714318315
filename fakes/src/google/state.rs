//! State shared by every handler and by the Rust control handle.

use std::collections::BTreeMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use serde::Serialize;

use super::config::FakeGoogleConfig;
use super::faults::{Faults, mix};
use super::oauth::Tokens;
use super::quota::{QuotaSwitch, Window};
use super::store::Store;

pub(crate) struct Account {
    pub email: String,
    pub name: String,
    pub picture: String,
    pub store: Mutex<Store>,
    pub quota: Mutex<Window>,
}

impl Account {
    /// OpenID `sub`: 21 digits like Google's, stable per email.
    pub(crate) fn subject(&self) -> String {
        let mut h = DefaultHasher::new();
        self.email.hash(&mut h);
        format!("1{:020}", mix(h.finish()))
    }

    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().expect("mailbox lock")
    }
}

/// Counters for benchmarks and assertions, readable via the control API.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Gmail API calls per method ("users.messages.list", ...), including
    /// refused ones.
    pub requests: BTreeMap<String, u64>,
    /// Calls per method that got past authentication, quota and injected faults (the
    /// ones a client retried are counted once per attempt that was served).
    pub admitted: BTreeMap<String, u64>,
    /// Calls answered 429.
    pub rate_limited: u64,
    /// Calls answered with an injected 500/503.
    pub injected_errors: u64,
    /// Quota units consumed by admitted calls.
    pub units_used: u64,
}

pub(crate) struct Shared {
    pub accounts: Vec<Account>,
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uris: Vec<String>,
    pub token_ttl: Mutex<Duration>,
    /// Accounts whose address Google reports as unverified (`email_verified: false`).
    pub unverified: Mutex<std::collections::BTreeSet<usize>>,
    pub tokens: Mutex<Tokens>,
    pub quota: QuotaSwitch,
    pub faults: Faults,
    pub stats: Mutex<Stats>,
    /// Known once the listener is bound; used as the id_token issuer.
    pub base_url: OnceLock<String>,
}

impl Shared {
    pub(crate) fn new(config: &FakeGoogleConfig, accounts: Vec<Account>) -> Shared {
        Shared {
            accounts,
            client_id: config.client_id.clone(),
            client_secret: config.client_secret.clone(),
            redirect_uris: config.redirect_uris.clone(),
            token_ttl: Mutex::new(config.access_token_ttl),
            unverified: Mutex::default(),
            tokens: Mutex::new(Tokens::new(config.seed, config.refresh_token_file.clone())),
            quota: QuotaSwitch::new(config.quota),
            faults: Faults::new(config.faults.clone()),
            stats: Mutex::new(Stats::default()),
            base_url: OnceLock::new(),
        }
    }

    /// An account by (case-insensitive) email address.
    pub(crate) fn account_index(&self, email: &str) -> Option<usize> {
        self.accounts
            .iter()
            .position(|a| a.email.eq_ignore_ascii_case(email))
    }

    pub(crate) fn tokens(&self) -> MutexGuard<'_, Tokens> {
        self.tokens.lock().expect("token lock")
    }

    pub(crate) fn stats(&self) -> MutexGuard<'_, Stats> {
        self.stats.lock().expect("stats lock")
    }

    pub(crate) fn email_verified(&self, account: usize) -> bool {
        !self
            .unverified
            .lock()
            .expect("unverified lock")
            .contains(&account)
    }

    pub(crate) fn token_ttl(&self) -> Duration {
        *self.token_ttl.lock().expect("ttl lock")
    }

    pub(crate) fn issuer(&self) -> String {
        self.base_url.get().cloned().unwrap_or_default()
    }
}
