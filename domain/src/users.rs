use serde::{Deserialize, Serialize};
use uuid::Uuid;

use api::{AccountStatus, Provider};

use crate::accounts::PageHeader;
use crate::events::{Event, UserSignedInPayload};
use crate::google::GoogleProfile;
use crate::zone::UserZone;
use crate::{Db, DomainError, EmailAddress};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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
    pub picture_url: Option<String>,
}

impl Db {
    /// Signs a Google identity in: the user is found by Google's stable subject id, and
    /// their email, name and picture follow what Google says now. Recorded as a
    /// `user.signed_in` event.
    pub async fn upsert_google_user(&self, profile: &GoogleProfile) -> Result<User, DomainError> {
        let email = EmailAddress::parse(&profile.email)?;
        let mut tx = self.pool().begin().await?;
        let row = sqlx::query!(
            r#"insert into users (google_subject, email, name, picture_url) values ($1, $2, $3, $4)
               on conflict (google_subject) do update
                 set email = excluded.email, name = excluded.name, picture_url = excluded.picture_url
               returning id, email, name, picture_url, (xmax = 0) as "inserted!""#,
            profile.subject,
            email.as_str(),
            profile.name,
            profile.picture,
        )
        .fetch_one(&mut *tx)
        .await?;
        let signed_in = Event::UserSignedIn(UserSignedInPayload {
            new_user: row.inserted,
        });
        crate::events::record(&mut tx, UserId(row.id), &signed_in).await?;
        tx.commit().await?;
        Ok(User {
            id: UserId(row.id),
            email: row.email,
            name: row.name,
            picture_url: row.picture_url,
        })
    }

    /// A signed-in request's user with what every page's header shows (time zone, Google
    /// accounts to reconnect) and whether the layout's and the contacts page's optional
    /// parts have anything to read, in the one read each signed-in request makes.
    pub async fn signed_in(&self, id: UserId) -> Result<(User, PageHeader), DomainError> {
        let row = sqlx::query!(
            r#"select u.id, u.email, u.name, u.picture_url, u.time_zone, u.time_zone_chosen,
                      array(select coalesce(a.display_name, a.external_id) from accounts a
                            where a.user_id = u.id and a.provider = $2 and a.status = $3
                            order by a.created_at, a.id) as "needs_reconnect!",
                      exists(select 1 from meta_integrations m where m.user_id = u.id) as "has_meta!",
                      (exists(select 1 from keep_in_touch k where k.user_id = u.id)
                       or exists(select 1 from keep_in_touch_tag_defaults d where d.user_id = u.id))
                        as "keeps_in_touch!"
               from users u where u.id = $1"#,
            id.0,
            Provider::Google.as_str(),
            AccountStatus::NeedsReconnect.as_str(),
        )
        .fetch_optional(self.statements())
        .await?
        .ok_or(DomainError::NotFound("user"))?;
        let user = User {
            id: UserId(row.id),
            email: row.email,
            name: row.name,
            picture_url: row.picture_url,
        };
        let header = PageHeader {
            zone: UserZone::parse_stored(&row.time_zone),
            zone_chosen: row.time_zone_chosen,
            needs_reconnect: row.needs_reconnect,
            has_meta: row.has_meta,
            keeps_in_touch: row.keeps_in_touch,
        };
        Ok((user, header))
    }

    /// Every user `email` (any case) may name: those who sign in with it and those who
    /// linked a Google account of that address, oldest first, each with its sign-in
    /// address. Tools run from the command line refuse to guess when there are several.
    pub async fn users_by_email(&self, email: &str) -> Result<Vec<(UserId, String)>, DomainError> {
        // A runtime query (no offline cache entry needed); the columns are fixed.
        let rows: Vec<(uuid::Uuid, String)> = sqlx::query_as(
            "select u.id, u.email from users u
             where u.email = lower($1)
                or exists (select 1 from accounts a
                           where a.user_id = u.id and a.provider = 'google'
                             and a.display_name = lower($1))
             order by u.created_at, u.id",
        )
        .bind(email.trim())
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, email)| (UserId(id), email))
            .collect())
    }

    /// The user signed in with `email` (any case), for tools run from the command line.
    pub async fn user_by_email(&self, email: &str) -> Result<UserId, DomainError> {
        sqlx::query_scalar!("select id from users where email = lower($1)", email.trim())
            .fetch_optional(self.pool())
            .await?
            .map(UserId)
            .ok_or(DomainError::NotFound("user"))
    }
}
