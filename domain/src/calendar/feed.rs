//! The secret subscription URL: `/calendar/feed/<token>.ics`. The token is `rcf_` plus
//! 32 random bytes (base64url), shown once when it is made; only its SHA-256 is stored.
//! One per user: making one again (rotating) replaces it, and revoking deletes it; the
//! old URL then answers 404 at once.

use chrono::{DateTime, Utc};

use crate::channels::{KeyHash, random_secret};
use crate::db::scopes::CalendarScope;
use crate::{Db, DomainError, UserId};

const PREFIX: &str = "rcf_";

/// A freshly made feed token, visible only until it is shown.
#[derive(Clone, PartialEq, Eq)]
pub struct FeedToken(String);

impl FeedToken {
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The feed's path for this token.
    pub fn path(&self) -> String {
        format!("/calendar/feed/{}.ics", self.0)
    }
}

impl std::fmt::Debug for FeedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FeedToken(<redacted>)")
    }
}

impl Db {
    /// The owner of a live feed token; `None` for an unknown, rotated or revoked one.
    pub async fn calendar_feed_owner(
        &self,
        presented: &str,
    ) -> Result<Option<UserId>, DomainError> {
        if !presented.starts_with(PREFIX) {
            return Ok(None);
        }
        let digest = KeyHash::of(presented);
        let user = sqlx::query_scalar!(
            "select user_id from calendar_feeds where token_sha256 = $1",
            digest.0.to_vec(),
        )
        .fetch_optional(self.pool())
        .await?;
        Ok(user.map(UserId))
    }
}

impl CalendarScope<'_> {
    /// When the current feed URL was made, if there is one.
    pub async fn feed_created_at(self) -> Result<Option<DateTime<Utc>>, DomainError> {
        Ok(sqlx::query_scalar!(
            "select created_at from calendar_feeds where user_id = $1",
            self.user.0,
        )
        .fetch_optional(self.pool)
        .await?)
    }

    /// Makes the feed URL, replacing any earlier one.
    pub async fn rotate_feed(self) -> Result<FeedToken, DomainError> {
        let token = FeedToken(random_secret(PREFIX));
        sqlx::query!(
            r#"insert into calendar_feeds (user_id, token_sha256) values ($1, $2)
               on conflict (user_id) do update set token_sha256 = excluded.token_sha256, created_at = now()"#,
            self.user.0,
            KeyHash::of(token.expose()).0.to_vec(),
        )
        .execute(self.pool)
        .await?;
        Ok(token)
    }

    /// Revokes the feed URL; `NotFound` when there is none.
    pub async fn revoke_feed(self) -> Result<(), DomainError> {
        let deleted = sqlx::query!("delete from calendar_feeds where user_id = $1", self.user.0)
            .execute(self.pool)
            .await?;
        if deleted.rows_affected() == 0 {
            return Err(DomainError::NotFound("calendar feed"));
        }
        Ok(())
    }
}
