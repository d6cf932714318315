//! Postgres access. [`Db`] owns the pool; [`UserScope`] is the only way to reach
//! user-owned rows, so every such query is bound to the acting user.

pub mod scopes;
mod sessions;
mod statements;
pub mod statistics;

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::channels::key_cache::ChannelKeyCache;
use crate::{DomainError, UserId};

pub use sessions::Sessions;
pub use statements::StatementPool;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// Every pool's options: at most `max` connections, no ping before every checkout (a page
/// runs ten short queries, and the pings doubled its round trips: 15% of the server's CPU
/// in a profile; a connection that died is still dropped when its query fails).
fn pool_options(max: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(5))
        .test_before_acquire(false)
}

#[derive(Clone, Debug)]
pub struct Db {
    pool: PgPool,
    /// The users' single statements (every scope's queries), beside `pool`.
    statements: Arc<StatementPool>,
    /// Shared by the clones: the endpoint reads channels through it and the settings
    /// forget what they change.
    channel_keys: Arc<ChannelKeyCache>,
}

impl Db {
    pub async fn connect(url: &str) -> Result<Self, DomainError> {
        let pool = pool_options(16).connect(url).await?;
        Ok(Self {
            statements: Arc::new(StatementPool::new(pool.clone(), 16)),
            pool,
            channel_keys: Arc::default(),
        })
    }

    /// A separate pool of at most `max` connections to the same database, each opened
    /// with the session settings given (for a writer whose triggers read them), so its
    /// transactions need no statement to set them.
    pub(crate) fn pool_with_settings(&self, settings: &[(&str, &str)], max: usize) -> PgPool {
        let options = (*self.pool.connect_options())
            .clone()
            .options(settings.iter().copied());
        pool_options(u32::try_from(max).unwrap_or(u32::MAX)).connect_lazy_with(options)
    }

    pub async fn migrate(&self) -> Result<(), DomainError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    /// The raw pool, for the domain's own queries. Tests (and only tests: enable the
    /// `test-support` feature in `[dev-dependencies]`) reach it to arrange and inspect
    /// rows directly.
    #[cfg(not(feature = "test-support"))]
    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The raw pool, for tests that arrange and inspect rows directly.
    #[cfg(feature = "test-support")]
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The pool for single statements outside a user's scope (see [`StatementPool`]).
    #[cfg(not(feature = "test-support"))]
    pub(crate) fn statements(&self) -> &StatementPool {
        &self.statements
    }

    /// The pool for single statements, for tests of it.
    #[cfg(feature = "test-support")]
    pub fn statements(&self) -> &StatementPool {
        &self.statements
    }

    /// Closes every connection once the ones in use are returned (at shutdown).
    pub async fn close(&self) {
        self.statements.close().await;
        self.pool.close().await;
    }

    /// The web sessions' store (the `sessions` table).
    pub fn sessions(&self) -> Sessions {
        Sessions::new(Arc::clone(&self.statements))
    }

    /// A round trip to the database, for health checks.
    pub async fn ping(&self) -> Result<(), DomainError> {
        sqlx::query_scalar!("select 1 as \"one!\"")
            .fetch_one(&self.pool)
            .await?;
        Ok(())
    }

    pub(crate) fn channel_keys(&self) -> &ChannelKeyCache {
        &self.channel_keys
    }

    pub fn for_user(&self, user: UserId) -> UserScope<'_> {
        UserScope {
            pool: &self.statements,
            channel_keys: &self.channel_keys,
            user,
        }
    }
}

/// Queries on behalf of one user, grouped by feature ([`scopes`]: `scope.contacts()`,
/// `scope.notes()`, ...). Every query filters by `self.user`.
#[derive(Clone, Copy, Debug)]
pub struct UserScope<'a> {
    pub(crate) pool: &'a StatementPool,
    pub(crate) channel_keys: &'a ChannelKeyCache,
    pub(crate) user: UserId,
}

impl UserScope<'_> {
    pub fn user(&self) -> UserId {
        self.user
    }
}
