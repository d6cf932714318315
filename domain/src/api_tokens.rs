//! Personal API tokens: how an agent or a script acts as a user on `/api/v1`. A token is
//! `rpt_` plus 32 random bytes (base64url), shown once when it is made; only its SHA-256
//! is stored (see [`crate::channels::KeyHash`]), with its first characters for display.
//! Revoking is immediate and permanent.

use api::settings::{ApiTokenView, IssuedApiToken};
use uuid::Uuid;

use crate::channels::{KeyHash, random_secret};
use crate::db::scopes::ApiTokensScope;
use crate::{Db, DomainError, UserId};

const PREFIX: &str = "rpt_";
/// How much of a token the list shows: the prefix and 4 random characters.
const DISPLAY_CHARS: usize = PREFIX.len() + 4;
const MAX_NAME_CHARS: usize = 80;

/// A freshly made token. It exists only until it has been shown to the user.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken(String);

impl ApiToken {
    fn generate() -> Self {
        Self(random_secret(PREFIX))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    fn display_prefix(&self) -> &str {
        &self.0[..DISPLAY_CHARS]
    }

    /// The answer that shows this token, made as `summary`, to its owner (once).
    pub fn issued(&self, summary: ApiTokenView) -> IssuedApiToken {
        IssuedApiToken {
            id: summary.id,
            name: summary.name,
            token: self.expose().to_owned(),
        }
    }
}

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiToken(<redacted>)")
    }
}

/// A token's name: what the user calls it, and the author name of the notes it writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenName(String);

impl TokenName {
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let name = input.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            return Err(DomainError::invalid(
                "name",
                format!("must be 1 to {MAX_NAME_CHARS} characters"),
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                "name",
                "must not contain control characters",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A request's token, checked: who it acts for and under which name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHolder {
    pub user: UserId,
    pub token: Uuid,
    pub name: String,
}

impl Db {
    /// The holder of a live token, or `None` for an unknown or revoked one (the same
    /// answer on purpose). Records the use. The row is found by the digest of what was
    /// presented, so timing can tell at most something about that digest, never about a
    /// stored token.
    pub async fn authenticate_api_token(
        &self,
        presented: &str,
    ) -> Result<Option<TokenHolder>, DomainError> {
        let digest = KeyHash::of(presented);
        let row = sqlx::query!(
            r#"update api_tokens set last_used_at = now()
               where token_sha256 = $1 and revoked_at is null
               returning id, user_id, name"#,
            digest.0.to_vec(),
        )
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| TokenHolder {
            user: UserId(r.user_id),
            token: r.id,
            name: r.name,
        }))
    }
}

impl ApiTokensScope<'_> {
    /// Makes a token; the returned [`ApiToken`] is the only time it is visible.
    pub async fn create(self, name: &TokenName) -> Result<(ApiTokenView, ApiToken), DomainError> {
        let token = ApiToken::generate();
        let summary = sqlx::query_as!(
            ApiTokenView,
            r#"insert into api_tokens (user_id, name, token_sha256, display_prefix)
               values ($1, $2, $3, $4)
               returning id, name, display_prefix, created_at, last_used_at, revoked_at"#,
            self.user.0,
            name.as_str(),
            KeyHash::of(token.expose()).0.to_vec(),
            token.display_prefix(),
        )
        .fetch_one(self.pool)
        .await?;
        Ok((summary, token))
    }

    /// This user's tokens, live ones first, newest first.
    pub async fn list(self) -> Result<Vec<ApiTokenView>, DomainError> {
        Ok(sqlx::query_as!(
            ApiTokenView,
            r#"select id, name, display_prefix, created_at, last_used_at, revoked_at
               from api_tokens where user_id = $1
               order by revoked_at is not null, created_at desc, id"#,
            self.user.0,
        )
        .fetch_all(self.pool)
        .await?)
    }

    /// Revokes a token at once. Revoking a revoked token changes nothing.
    pub async fn revoke(self, token: Uuid) -> Result<(), DomainError> {
        let done = sqlx::query!(
            r#"update api_tokens set revoked_at = coalesce(revoked_at, now())
               where user_id = $1 and id = $2"#,
            self.user.0,
            token,
        )
        .execute(self.pool)
        .await?;
        match done.rows_affected() {
            0 => Err(DomainError::NotFound("token")),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_random_and_never_printed() {
        let token = ApiToken::generate();
        assert!(token.expose().starts_with("rpt_"));
        assert_eq!(token.expose().len(), 4 + 43);
        assert_eq!(token.display_prefix(), &token.expose()[..8]);
        assert_ne!(ApiToken::generate(), token);
        assert!(!format!("{token:?}").contains(token.expose()));
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(TokenName::parse("  agent ").unwrap().as_str(), "agent");
        assert!(TokenName::parse("   ").is_err());
        assert!(TokenName::parse(&"x".repeat(81)).is_err());
        assert!(TokenName::parse("bad\nname").is_err());
    }
}
