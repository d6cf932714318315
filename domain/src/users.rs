use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Db, DomainError, EmailAddress};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub Uuid);

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub name: Option<String>,
}

impl Db {
    /// The single local owner used until Google sign-in is configured: created on first
    /// start, found again afterwards (its email and name follow the configuration).
    pub async fn ensure_local_owner(
        &self,
        email: &EmailAddress,
        name: &str,
    ) -> Result<User, DomainError> {
        let row = sqlx::query!(
            r#"insert into users (email, name, is_local_owner) values ($1, $2, true)
               on conflict (is_local_owner) where is_local_owner
               do update set email = excluded.email, name = excluded.name
               returning id, email, name"#,
            email.as_str(),
            name,
        )
        .fetch_one(self.pool())
        .await?;
        Ok(User {
            id: UserId(row.id),
            email: row.email,
            name: row.name,
        })
    }

    pub async fn user(&self, id: UserId) -> Result<User, DomainError> {
        let row = sqlx::query!("select id, email, name from users where id = $1", id.0)
            .fetch_optional(self.pool())
            .await?
            .ok_or(DomainError::NotFound("user"))?;
        Ok(User {
            id: UserId(row.id),
            email: row.email,
            name: row.name,
        })
    }
}
