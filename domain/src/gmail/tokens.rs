//! Where bearer tokens come from. The server implements [`AccessTokens`] with OAuth
//! refresh; [`StaticTokens`] serves tests and demo mode.

use std::collections::HashMap;
use std::sync::RwLock;

use uuid::Uuid;

/// Why no token could be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The grant was revoked or expired (`invalid_grant`): only the user can fix it by
    /// connecting the account again, so retrying is pointless.
    #[error("the account must be reconnected: {0}")]
    NeedsReconnect(String),
    /// A transient failure (token endpoint down); worth retrying.
    #[error("no access token available: {0}")]
    Unavailable(String),
}

pub trait AccessTokens: Send + Sync + 'static {
    /// A valid access token for the account (cached or freshly refreshed).
    fn access_token(
        &self,
        account: Uuid,
    ) -> impl Future<Output = Result<String, TokenError>> + Send;

    /// Called when Google rejected `token` with 401, so the next call refreshes.
    fn invalidate(&self, account: Uuid, token: &str) -> impl Future<Output = ()> + Send;
}

/// Fixed tokens per account. An unknown account needs reconnecting; invalidation is a
/// no-op, so a revoked token stays revoked (which is what tests of revocation want).
#[derive(Debug, Default)]
pub struct StaticTokens {
    tokens: RwLock<HashMap<Uuid, String>>,
}

impl StaticTokens {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn set(&self, account: Uuid, token: impl Into<String>) {
        self.tokens
            .write()
            .expect("token map lock")
            .insert(account, token.into());
    }
}

impl AccessTokens for StaticTokens {
    async fn access_token(&self, account: Uuid) -> Result<String, TokenError> {
        self.tokens
            .read()
            .expect("token map lock")
            .get(&account)
            .cloned()
            .ok_or_else(|| TokenError::NeedsReconnect("no token for this account".to_owned()))
    }

    async fn invalidate(&self, _account: Uuid, _token: &str) {}
}
