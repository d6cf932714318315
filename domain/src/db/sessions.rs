//! The web sessions' rows (`sessions`, in tower-sessions' column layout). Sessions are
//! opaque bytes here: the server encodes and decodes them and decides their ids.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::StatementPool;

use crate::DomainError;

/// Reads and writes of the `sessions` table, for the server's session store.
#[derive(Clone, Debug)]
pub struct Sessions {
    statements: Arc<StatementPool>,
}

impl Sessions {
    pub(super) fn new(statements: Arc<StatementPool>) -> Self {
        Self { statements }
    }

    /// Stores a new session; `false` (and nothing written) when `id` is taken.
    pub async fn create(
        &self,
        id: &str,
        data: &[u8],
        expires_at: DateTime<Utc>,
    ) -> Result<bool, DomainError> {
        let inserted = sqlx::query(
            "insert into sessions (id, data, expiry_date) values ($1, $2, $3)
             on conflict (id) do nothing",
        )
        .bind(id)
        .bind(data)
        .bind(expires_at)
        .execute(&*self.statements)
        .await?;
        Ok(inserted.rows_affected() == 1)
    }

    /// Stores a session, replacing the one with the same id.
    pub async fn save(
        &self,
        id: &str,
        data: &[u8],
        expires_at: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        sqlx::query(
            "insert into sessions (id, data, expiry_date) values ($1, $2, $3)
             on conflict (id) do update set data = excluded.data, expiry_date = excluded.expiry_date",
        )
        .bind(id)
        .bind(data)
        .bind(expires_at)
        .execute(&*self.statements)
        .await?;
        Ok(())
    }

    /// The session's data, unless it is missing or expired.
    pub async fn load(&self, id: &str) -> Result<Option<Vec<u8>>, DomainError> {
        Ok(
            sqlx::query_scalar("select data from sessions where id = $1 and expiry_date > now()")
                .bind(id)
                .fetch_optional(&*self.statements)
                .await?,
        )
    }

    pub async fn delete(&self, id: &str) -> Result<(), DomainError> {
        sqlx::query("delete from sessions where id = $1")
            .bind(id)
            .execute(&*self.statements)
            .await?;
        Ok(())
    }

    /// Removes expired sessions; how many there were.
    pub async fn delete_expired(&self) -> Result<u64, DomainError> {
        let deleted = sqlx::query("delete from sessions where expiry_date < now()")
            .execute(&*self.statements)
            .await?;
        Ok(deleted.rows_affected())
    }
}
