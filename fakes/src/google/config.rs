//! Everything a test, demo or benchmark may want to vary about the fake.
//!
//! Defaults mirror Google's documented behaviour (one-hour access tokens,
//! 250 quota units per user per second) so that code tuned against the fake
//! behaves the same against the real service.

use std::path::PathBuf;
use std::time::Duration;

use crate::mailbox::MailboxSpec;

/// Where an account's mail comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum MailboxSource {
    /// Synthetic mail rendered on demand; only compact metadata is kept.
    Generated(MailboxSpec),
    /// An mbox file (mboxrd/mboxo, e.g. a Google Takeout export) read at start.
    Mbox(PathBuf),
    /// A Maildir (`cur/`, `new/` and Maildir++ `.Folder`s) read at start.
    Maildir(PathBuf),
}

/// One Google account that can sign in on the consent page.
#[derive(Clone, Debug, PartialEq)]
pub struct DemoAccount {
    pub email: String,
    pub name: String,
    pub picture: String,
    pub mailbox: MailboxSource,
}

impl DemoAccount {
    /// An account owning a generated mailbox; identity comes from the spec's owner.
    pub fn generated(spec: MailboxSpec) -> Self {
        DemoAccount {
            email: spec.owner_email.clone(),
            name: spec.owner_name.clone(),
            picture: avatar_url(&spec.owner_name),
            mailbox: MailboxSource::Generated(spec),
        }
    }
}

/// A deterministic placeholder avatar (no network needed to render the page).
pub(crate) fn avatar_url(name: &str) -> String {
    let initials: String = name
        .split_whitespace()
        .filter_map(|w| w.chars().next())
        .take(2)
        .collect();
    format!("https://lh3.googleusercontent.com/a/default-user=s96-c#{initials}")
}

/// Deliberate misbehaviour, all switchable at runtime through the control API.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultConfig {
    /// Fraction (0.0..=1.0) of Gmail API calls answered with 500 or 503
    /// instead of being served. Which calls fail is a pure function of
    /// `seed` and the call's sequence number, so runs are reproducible.
    pub error_rate: f64,
    /// Delay added before every Gmail API call is handled.
    pub latency: Duration,
    pub seed: u64,
}

impl Default for FaultConfig {
    fn default() -> Self {
        FaultConfig {
            error_rate: 0.0,
            latency: Duration::ZERO,
            seed: 7,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct FakeGoogleConfig {
    /// 0 picks a free port.
    pub port: u16,
    pub accounts: Vec<DemoAccount>,
    pub client_id: String,
    pub client_secret: String,
    /// Redirect URIs the client has "registered". Empty accepts any
    /// absolute http(s) URI, which is what local development wants.
    pub redirect_uris: Vec<String>,
    pub access_token_ttl: Duration,
    /// Per-user quota enforcement (250 units/s); off for benchmarks.
    pub quota: bool,
    /// How long history records stay available to `history.list`; older
    /// `startHistoryId`s get 404 like Gmail's (which keeps "at least a week").
    pub history_retention: Duration,
    pub faults: FaultConfig,
    /// Seeds token strings and history-id gaps.
    pub seed: u64,
    /// Where to keep refresh grants across restarts. Demo mode sets it so that a user
    /// who stays signed in to Rapport keeps working Gmail access after a restart;
    /// `None` (tests) keeps them in memory only.
    pub refresh_token_file: Option<PathBuf>,
}

impl FakeGoogleConfig {
    /// Two accounts with generated mail: the demo owner (2,000 messages) and
    /// a second, smaller personal account for account-switching flows.
    pub fn demo() -> Self {
        let mut second = MailboxSpec::demo(300);
        second.seed = 4242;
        second.owner_name = "Sam Rivera".to_string();
        second.owner_email = "sam.rivera@gmail.com".to_string();
        FakeGoogleConfig {
            port: 0,
            accounts: vec![
                DemoAccount::generated(MailboxSpec::demo(2000)),
                DemoAccount::generated(second),
            ],
            client_id: "rapport-demo-client".to_string(),
            client_secret: "rapport-demo-secret".to_string(),
            redirect_uris: Vec::new(),
            access_token_ttl: Duration::from_secs(3600),
            quota: true,
            history_retention: Duration::from_secs(7 * 24 * 3600),
            faults: FaultConfig::default(),
            seed: 1,
            refresh_token_file: None,
        }
    }

    /// The demo settings with a single generated account.
    pub fn with_mailbox(spec: MailboxSpec) -> Self {
        FakeGoogleConfig {
            accounts: vec![DemoAccount::generated(spec)],
            ..FakeGoogleConfig::demo()
        }
    }
}

impl Default for FakeGoogleConfig {
    fn default() -> Self {
        FakeGoogleConfig::demo()
    }
}
