//! Connecting a CalDAV account: discovery with the user's server URL, user name and app
//! password (nothing stored when it fails), then the account with the password sealed
//! for it ([`SecretBox::seal_for`], the account id as associated data) and the calendars
//! the user picked.

use api::{AccountStatus, Provider};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::CalDavError;
use super::client::{CalDavApi, CalDavCredentials, CalendarInfo, HttpCalDav};
use crate::DomainError;
use crate::crypto::{CryptoError, SecretBox};
use crate::db::scopes::{AccountsScope, CalendarsScope};

/// Runs discovery: the calendars the user may pick from. Stores nothing.
pub async fn find_calendars(
    credentials: &CalDavCredentials,
) -> Result<Vec<CalendarInfo>, CalDavError> {
    HttpCalDav::new(HttpCalDav::default_client(), credentials.clone())
        .discover()
        .await
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(transparent)]
    CalDav(#[from] CalDavError),
    #[error("pick at least one calendar")]
    NothingPicked,
    #[error("the server has no calendar {0}")]
    UnknownCalendar(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl From<ConnectError> for DomainError {
    fn from(e: ConnectError) -> Self {
        match e {
            ConnectError::Database(e) => DomainError::Database(e),
            other => DomainError::invalid("calendar", other.to_string()),
        }
    }
}

/// A synced calendar as Settings lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarSummary {
    pub id: Uuid,
    pub account_id: Uuid,
    pub href: String,
    pub display_name: Option<String>,
    pub color: Option<String>,
    pub polled_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub events: i64,
}

impl AccountsScope<'_> {
    /// Discovers the calendars with `client` (which holds the credentials), checks the
    /// picked hrefs are among them, and stores the account and those calendars. Wrong
    /// credentials or a server that is not CalDAV store nothing.
    pub async fn connect_caldav<C: CalDavApi>(
        self,
        client: &C,
        credentials: &CalDavCredentials,
        picked: &[String],
        secrets: &SecretBox,
    ) -> Result<Uuid, ConnectError> {
        if picked.is_empty() {
            return Err(ConnectError::NothingPicked);
        }
        let found = client.discover().await?;
        let chosen: Vec<&CalendarInfo> = picked
            .iter()
            .map(|href| {
                found
                    .iter()
                    .find(|c| &c.href == href)
                    .ok_or_else(|| ConnectError::UnknownCalendar(href.clone()))
            })
            .collect::<Result<_, _>>()?;
        let host = credentials.server_url.host_str().unwrap_or_default();
        let mut tx = self.pool.begin().await?;
        let account = sqlx::query_scalar!(
            r#"insert into accounts (user_id, provider, external_id, display_name, status, sync_state)
               values ($1, 'caldav', $2, $3, 'active', jsonb_build_object('server_url', $4::text))
               on conflict (user_id, provider, external_id) do update set
                 display_name = excluded.display_name, status = 'active', last_error = null,
                 sync_state = excluded.sync_state
               returning id"#,
            self.user.0,
            credentials.user,
            format!("{} on {host}", credentials.user),
            credentials.server_url.as_str(),
        )
        .fetch_one(&mut *tx)
        .await?;
        let sealed = secrets.seal_for(&credentials.password, account.as_bytes());
        sqlx::query!(
            "update accounts set access_token_enc = $3 where user_id = $1 and id = $2",
            self.user.0,
            account,
            sealed,
        )
        .execute(&mut *tx)
        .await?;
        for calendar in chosen {
            sqlx::query!(
                r#"insert into caldav_calendars (user_id, account_id, href, display_name, color)
                   values ($1, $2, $3, $4, $5)
                   on conflict (account_id, href) do update
                     set display_name = excluded.display_name, color = excluded.color"#,
                self.user.0,
                account,
                calendar.href,
                calendar.display_name,
                calendar.color,
            )
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(account)
    }

    /// The stored credentials of a CalDAV account. `NotFound` for someone else's.
    pub async fn caldav_credentials(
        self,
        account: Uuid,
        secrets: &SecretBox,
    ) -> Result<CalDavCredentials, CredentialsError> {
        let row = sqlx::query!(
            r#"select external_id, sync_state ->> 'server_url' as server_url, access_token_enc,
                      status as "status: AccountStatus"
               from accounts where user_id = $1 and id = $2 and provider = $3"#,
            self.user.0,
            account,
            Provider::Caldav.as_str(),
        )
        .fetch_optional(self.pool)
        .await?
        .ok_or(CredentialsError::NotFound)?;
        if matches!(
            row.status,
            AccountStatus::NeedsReconnect | AccountStatus::Disconnected
        ) {
            return Err(CredentialsError::NeedsReconnect);
        }
        let (Some(url), Some(sealed)) = (row.server_url, row.access_token_enc) else {
            return Err(CredentialsError::NeedsReconnect);
        };
        let password = secrets.open_for(&sealed, account.as_bytes())?;
        CalDavCredentials::new(&url, &row.external_id, &password).map_err(CredentialsError::CalDav)
    }

    /// The server refused the stored password: only the user can fix it.
    pub async fn mark_caldav_needs_reconnect(
        self,
        account: Uuid,
        reason: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query!(
            r#"update accounts set status = 'needs_reconnect', last_error = $3
               where user_id = $1 and id = $2 and provider = 'caldav'"#,
            self.user.0,
            account,
            reason,
        )
        .execute(self.pool)
        .await?;
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("calendar account not found")]
    NotFound,
    #[error("the calendar account needs to be connected again")]
    NeedsReconnect,
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    CalDav(CalDavError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl CalendarsScope<'_> {
    /// The user's synced calendars with how many events each holds, oldest first.
    pub async fn list(self) -> Result<Vec<CalendarSummary>, DomainError> {
        Ok(sqlx::query_as!(
            CalendarSummary,
            r#"select c.id, c.account_id, c.href, c.display_name, c.color, c.polled_at, c.last_error,
                      (select count(*) from caldav_instances e
                       where e.user_id = c.user_id and e.calendar_id = c.id) as "events!"
               from caldav_calendars c where c.user_id = $1
               order by c.created_at, c.id"#,
            self.user.0,
        )
        .fetch_all(self.pool)
        .await?)
    }

    /// Records why the last poll of a calendar failed (shown in Settings).
    pub async fn record_poll_error(self, calendar: Uuid, error: &str) -> Result<(), sqlx::Error> {
        sqlx::query!(
            "update caldav_calendars set last_error = $3 where user_id = $1 and id = $2",
            self.user.0,
            calendar,
            error,
        )
        .execute(self.pool)
        .await?;
        Ok(())
    }
}

impl From<CalendarSummary> for api::calendars::CalendarRow {
    fn from(c: CalendarSummary) -> Self {
        Self {
            name: c.display_name.unwrap_or_else(|| c.href.clone()),
            id: c.id,
            account_id: c.account_id,
            color: c.color,
            events: c.events,
            polled_at: c.polled_at,
            last_error: c.last_error,
        }
    }
}

impl From<CalendarInfo> for api::calendars::FoundCalendar {
    fn from(c: CalendarInfo) -> Self {
        Self {
            name: c.display_name.unwrap_or_else(|| c.href.clone()),
            href: c.href,
            color: c.color,
        }
    }
}

impl CalendarsScope<'_> {
    /// Queues a poll of one of this user's calendars now. `NotFound` for someone
    /// else's.
    pub async fn request_poll(self, calendar: Uuid) -> Result<(), DomainError> {
        let owned = sqlx::query_scalar!(
            r#"select exists (select 1 from caldav_calendars where user_id = $1 and id = $2) as "owned!""#,
            self.user.0,
            calendar,
        )
        .fetch_one(self.pool)
        .await?;
        if !owned {
            return Err(DomainError::NotFound("calendar"));
        }
        self.jobs()
            .enqueue(&super::jobs::PollCalendar {
                calendar_id: calendar,
            })
            .await
            .map_err(|e| match e {
                crate::jobs::QueueError::Database(e) => DomainError::Database(e),
                other => DomainError::invalid("calendar", other.to_string()),
            })?;
        Ok(())
    }
}
