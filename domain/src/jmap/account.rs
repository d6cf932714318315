//! Fastmail (JMAP) accounts: connecting validates the credential against the session
//! resource before anything is stored; the credential is sealed with [`SecretBox`] bound
//! to the account id (like Google tokens), the session URL and the per-mailbox
//! checkpoints live in `sync_state`.

use std::collections::HashMap;

use api::{AccountStatus, Provider};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Credential, Endpoint, JmapApi, JmapError};
use crate::DomainError;
use crate::crypto::SecretBox;
use crate::db::scopes::AccountsScope;
use crate::events::{AccountLinkedPayload, Event};

/// What connecting needs from the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FastmailConnect {
    pub session_url: String,
    pub credential: Credential,
}

impl FastmailConnect {
    /// Checks the form's input: an http(s) session URL, and either a token or a user
    /// name with a password.
    pub fn parse(
        session_url: &str,
        token: &str,
        user: &str,
        password: &str,
    ) -> Result<Self, DomainError> {
        let session_url = session_url.trim();
        let parsed = reqwest::Url::parse(session_url)
            .map_err(|_| DomainError::invalid("session URL", "not a valid URL"))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(DomainError::invalid(
                "session URL",
                "use an https:// address, like https://api.fastmail.com/jmap/session",
            ));
        }
        let (token, user) = (token.trim(), user.trim());
        let credential = match (token.is_empty(), user.is_empty(), password.is_empty()) {
            (false, true, true) => Credential::Bearer {
                token: token.to_owned(),
            },
            (true, false, false) => Credential::Basic {
                user: user.to_owned(),
                password: password.to_owned(),
            },
            _ => {
                return Err(DomainError::invalid(
                    "credentials",
                    "give an API token, or a user name and password (not both)",
                ));
            }
        };
        Ok(Self {
            session_url: session_url.to_owned(),
            credential,
        })
    }
}

/// A Fastmail account as the sync reads it.
#[derive(Debug, Clone)]
pub struct JmapAccount {
    pub endpoint: Endpoint,
    pub status: AccountStatus,
    /// Per mailbox role (`inbox`, `sent`): messages received after this are queried.
    pub checkpoints: HashMap<String, DateTime<Utc>>,
}

/// Why a stored Fastmail account cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum JmapAccountError {
    #[error("account not found")]
    NotFound,
    #[error("the account needs reconnecting: {0}")]
    NeedsReconnect(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl AccountsScope<'_> {
    /// Connects (or reconnects) a Fastmail / JMAP account: fetches the session resource
    /// with the credential first. A refused credential, an unreachable server or one
    /// without JMAP mail is a precise [`DomainError::Invalid`], and nothing is stored.
    pub async fn connect_fastmail<A: JmapApi>(
        self,
        api: &A,
        form: &FastmailConnect,
        secrets: &SecretBox,
    ) -> Result<Uuid, DomainError> {
        let endpoint = Endpoint {
            session_url: form.session_url.clone(),
            credential: form.credential.clone(),
        };
        let session = api.session(&endpoint).await.map_err(|e| match e {
            JmapError::Unauthorized(_) => DomainError::invalid(
                "credentials",
                "the server refused them; check the API token (or user name and password)",
            ),
            JmapError::NoMail => DomainError::invalid(
                "session URL",
                "this JMAP server does not offer mail (urn:ietf:params:jmap:mail)",
            ),
            JmapError::Transport(detail) => DomainError::invalid(
                "session URL",
                format!("could not reach the server: {detail}"),
            ),
            other => DomainError::invalid(
                "session URL",
                format!("not a JMAP session resource: {other}"),
            ),
        })?;
        let username = match &form.credential {
            _ if !session.username.trim().is_empty() => session.username.trim().to_lowercase(),
            Credential::Basic { user, .. } => user.to_lowercase(),
            Credential::Bearer { .. } => session.mail_account().unwrap_or_default().to_owned(),
        };
        let sealed_later: Option<Vec<u8>> = None;
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query!(
            r#"insert into accounts (user_id, provider, external_id, display_name,
                                     access_token_enc, status, sync_state)
               values ($1, 'fastmail', $2, $2, $3, 'active', jsonb_build_object('session_url', $4::text))
               on conflict (user_id, provider, external_id) do update set
                 status = 'active',
                 last_error = null,
                 sync_state = accounts.sync_state || jsonb_build_object('session_url', $4::text)
               returning id, (xmax = 0) as "inserted!""#,
            self.user.0,
            username,
            sealed_later,
            form.session_url,
        )
        .fetch_one(&mut *tx)
        .await?;
        let credential = serde_json::to_string(&form.credential)
            .map_err(|e| DomainError::invalid("credentials", e.to_string()))?;
        let sealed = secrets.seal_for(&credential, row.id.as_bytes());
        sqlx::query!(
            "update accounts set access_token_enc = $3 where id = $1 and user_id = $2",
            row.id,
            self.user.0,
            sealed,
        )
        .execute(&mut *tx)
        .await?;
        let linked = Event::AccountLinked(AccountLinkedPayload {
            account_id: row.id,
            provider: Provider::Fastmail,
            address: username,
            relinked: !row.inserted,
        });
        self.events().record(&mut tx, &linked).await?;
        tx.commit().await?;
        Ok(row.id)
    }

    /// Queues a poll of this user's Fastmail account now; `false` when one is queued or
    /// running already. Another user's account is not found.
    pub async fn request_jmap_poll(self, account: Uuid) -> Result<bool, DomainError> {
        let owned = sqlx::query_scalar!(
            r#"select exists(select 1 from accounts
                             where id = $1 and user_id = $2 and provider = 'fastmail') as "owned!""#,
            account,
            self.user.0,
        )
        .fetch_one(self.pool)
        .await?;
        if !owned {
            return Err(DomainError::NotFound("account"));
        }
        let enqueued = self
            .jobs()
            .enqueue(&super::JmapPollJob {
                account_id: account,
            })
            .await
            .map_err(|e| DomainError::invalid("sync", e.to_string()))?;
        Ok(enqueued.created)
    }

    /// The endpoint and checkpoints of a Fastmail account. A credential that does not
    /// open for this account marks it needs-reconnect.
    pub async fn jmap_account(
        self,
        account: Uuid,
        secrets: &SecretBox,
    ) -> Result<JmapAccount, JmapAccountError> {
        let row = sqlx::query!(
            r#"select access_token_enc, status as "status: AccountStatus",
                      sync_state ->> 'session_url' as session_url,
                      coalesce(sync_state -> 'jmap_checkpoints', '{}') as "checkpoints!"
               from accounts where id = $1 and user_id = $2 and provider = 'fastmail'"#,
            account,
            self.user.0,
        )
        .fetch_optional(self.pool)
        .await?
        .ok_or(JmapAccountError::NotFound)?;
        if matches!(
            row.status,
            AccountStatus::NeedsReconnect | AccountStatus::Disconnected
        ) {
            return Err(JmapAccountError::NeedsReconnect(
                "connect the Fastmail account again".to_owned(),
            ));
        }
        let credential = row
            .access_token_enc
            .as_deref()
            .and_then(|sealed| secrets.open_for(sealed, account.as_bytes()).ok())
            .and_then(|json| serde_json::from_str::<Credential>(&json).ok());
        let (Some(credential), Some(session_url)) = (credential, row.session_url) else {
            let reason = "the stored Fastmail credential could not be read; reconnect Fastmail";
            self.mark_status(account, AccountStatus::NeedsReconnect, Some(reason))
                .await?;
            return Err(JmapAccountError::NeedsReconnect(reason.to_owned()));
        };
        let checkpoints = serde_json::from_value(row.checkpoints).unwrap_or_default();
        Ok(JmapAccount {
            endpoint: Endpoint {
                session_url,
                credential,
            },
            status: row.status,
            checkpoints,
        })
    }

    /// Moves one mailbox's checkpoint (never backwards).
    pub(super) async fn save_jmap_checkpoint(
        self,
        account: Uuid,
        role: &str,
        at: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query!(
            r#"update accounts set sync_state = jsonb_set(
                 jsonb_set(sync_state, '{jmap_checkpoints}',
                           coalesce(sync_state -> 'jmap_checkpoints', '{}'), true),
                 array['jmap_checkpoints', $3::text],
                 to_jsonb(greatest($4::timestamptz,
                   coalesce((sync_state -> 'jmap_checkpoints' ->> $3::text)::timestamptz, $4::timestamptz))),
                 true)
               where id = $1 and user_id = $2"#,
            account,
            self.user.0,
            role,
            at,
        )
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// Forgets the checkpoints: the next poll queries every mailbox from the start
    /// (stamped messages stay out, so this costs queries, not duplicates).
    pub(super) async fn clear_jmap_checkpoints(self, account: Uuid) -> Result<(), sqlx::Error> {
        sqlx::query!(
            r#"update accounts set sync_state = sync_state - 'jmap_checkpoints'
               where id = $1 and user_id = $2"#,
            account,
            self.user.0,
        )
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// Sets a polled account's status (Fastmail, a Facebook Page); `active` also records a
    /// successful sync.
    pub(crate) async fn mark_status(
        self,
        account: Uuid,
        status: AccountStatus,
        error: Option<&str>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query!(
            r#"update accounts set status = $3, last_error = $4,
                 last_synced_at = case when $3 = 'active' then now() else last_synced_at end
               where id = $1 and user_id = $2 and status <> 'disconnected'"#,
            account,
            self.user.0,
            status.as_str(),
            error,
        )
        .execute(self.pool)
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_takes_a_token_or_a_user_and_password() {
        let token =
            FastmailConnect::parse(" https://api.fastmail.com/jmap/session ", " t0k ", "", "")
                .unwrap();
        assert_eq!(token.session_url, "https://api.fastmail.com/jmap/session");
        assert_eq!(
            token.credential,
            Credential::Bearer {
                token: "t0k".into()
            }
        );
        let basic = FastmailConnect::parse("http://127.0.0.1:8080/jmap/", "", "ann", "pw").unwrap();
        assert!(matches!(basic.credential, Credential::Basic { .. }));
        assert!(FastmailConnect::parse("ftp://x/", "t", "", "").is_err());
        assert!(FastmailConnect::parse("not a url", "t", "", "").is_err());
        assert!(FastmailConnect::parse("https://x/", "", "", "").is_err());
        assert!(FastmailConnect::parse("https://x/", "t", "ann", "pw").is_err());
        assert!(FastmailConnect::parse("https://x/", "", "ann", "").is_err());
    }
}
