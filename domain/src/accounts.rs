//! Connected sources (Gmail now; webhook channels, uploads and others later). Tokens are
//! sealed with [`SecretBox`] before they reach the database and opened only here. Each
//! is bound to its account (the account id is the AES-GCM associated data), so a
//! ciphertext copied into another account's row does not decrypt: that account is
//! marked needs-reconnect instead of acting with someone else's Google grant.

use api::{AccountStatus, Provider};
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::DomainError;
use crate::crypto::{CryptoError, SecretBox};
use crate::db::scopes::AccountsScope;
use crate::events::{AccountLinkedPayload, Event};
use crate::google::{GoogleError, GoogleOAuth, GoogleProfile, TokenGrant};
use crate::zone::UserZone;

/// Refresh this long before expiry so a sync never starts with a dying token.
const REFRESH_MARGIN_MINUTES: i64 = 5;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSummary {
    pub id: Uuid,
    pub provider: Provider,
    pub external_id: String,
    pub display_name: Option<String>,
    pub scopes: Vec<String>,
    pub status: AccountStatus,
    pub last_error: Option<String>,
    pub last_synced_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Google refused the refresh token: the user has to consent again.
    #[error("Gmail access was revoked or expired; reconnect Google")]
    NeedsReconnect,
    #[error("account not found")]
    NotFound,
    #[error(transparent)]
    Google(#[from] GoogleError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// Whether disconnecting keeps what was synced (contacts, activities) or deletes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncedData {
    Keep,
    Delete,
}

/// What every page's header shows about the user's settings and accounts (read with the
/// signed-in user: [`crate::Db::signed_in`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageHeader {
    pub zone: UserZone,
    /// Whether the user picked the zone (else it follows the browser's).
    pub zone_chosen: bool,
    /// The Google accounts whose access was revoked or expired, by name.
    pub needs_reconnect: Vec<String>,
    /// Whether Messenger or Instagram is connected: only then can a conversation wait
    /// for a person (the handoff banner on every page reads them only then).
    pub has_meta: bool,
    /// Whether the user set a keep-in-touch frequency on any contact or tag: only then
    /// can anyone be due (the contacts page's card reads them only then).
    pub keeps_in_touch: bool,
}

impl AccountsScope<'_> {
    pub async fn list(self) -> Result<Vec<AccountSummary>, DomainError> {
        let rows = sqlx::query_as!(
            AccountSummary,
            r#"select id, provider as "provider: Provider", external_id, display_name, scopes,
                      status as "status: AccountStatus", last_error, last_synced_at, created_at
               from accounts where user_id = $1
               order by created_at, id"#,
            self.user.0,
        )
        .fetch_all(self.pool)
        .await?;
        Ok(rows)
    }

    /// Creates or updates the Google account after consent. A grant without a refresh
    /// token keeps the stored one; the account becomes active again (reconnect).
    /// Recorded as an `account.linked` event.
    pub async fn connect_google(
        self,
        profile: &GoogleProfile,
        grant: &TokenGrant,
        secrets: &SecretBox,
    ) -> Result<Uuid, DomainError> {
        // The tokens are bound to the account id, known only after the upsert: insert
        // without them, then store them sealed for that id in the same transaction.
        let no_access: Option<Vec<u8>> = None;
        let no_refresh: Option<Vec<u8>> = None;
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query!(
            r#"insert into accounts (user_id, provider, external_id, display_name, scopes,
                                     access_token_enc, refresh_token_enc, token_expires_at, status)
               values ($1, 'google', $2, $3, $4, $5, $6, $7, 'active')
               on conflict (user_id, provider, external_id) do update set
                 display_name = excluded.display_name,
                 scopes = excluded.scopes,
                 access_token_enc = excluded.access_token_enc,
                 refresh_token_enc = coalesce(excluded.refresh_token_enc, accounts.refresh_token_enc),
                 token_expires_at = excluded.token_expires_at,
                 status = 'active',
                 last_error = null
               returning id, (xmax = 0) as "inserted!""#,
            self.user.0,
            profile.subject,
            profile.email.to_lowercase(),
            &grant.scopes,
            no_access,
            no_refresh,
            grant.expires_at,
        )
        .fetch_one(&mut *tx)
        .await?;
        store_grant(&mut tx, row.id, self.user, grant, secrets).await?;
        let linked = Event::AccountLinked(AccountLinkedPayload {
            account_id: row.id,
            provider: Provider::Google,
            address: profile.email.to_lowercase(),
            relinked: !row.inserted,
        });
        self.events().record(&mut tx, &linked).await?;
        tx.commit().await?;
        Ok(row.id)
    }

    /// A valid access token for a Google account, refreshed when it is about to expire.
    /// Refreshes are serialized per account by a row lock, so concurrent callers (sync
    /// workers, page loads) never stampede Google: the first refreshes, the rest reuse.
    pub async fn google_access_token(
        self,
        account: Uuid,
        oauth: &GoogleOAuth,
        secrets: &SecretBox,
    ) -> Result<String, TokenError> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query!(
            r#"select access_token_enc, refresh_token_enc, token_expires_at,
                      status as "status: AccountStatus"
               from accounts where id = $1 and user_id = $2 and provider = 'google'
               for update"#,
            account,
            self.user.0,
        )
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(TokenError::NotFound)?;
        if matches!(
            row.status,
            AccountStatus::NeedsReconnect | AccountStatus::Disconnected
        ) {
            return Err(TokenError::NeedsReconnect);
        }
        let fresh_until = Utc::now() + Duration::minutes(REFRESH_MARGIN_MINUTES);
        if let (Some(access), Some(expires_at)) = (&row.access_token_enc, row.token_expires_at)
            && expires_at > fresh_until
        {
            return match open_token(secrets, access, account) {
                Ok(token) => Ok(token),
                Err(error) => {
                    self.mark_undecryptable(tx, account).await?;
                    Err(error.into())
                }
            };
        }
        let Some(refresh_enc) = row.refresh_token_enc else {
            self.mark_needs_reconnect_in(
                &mut tx,
                account,
                "Google did not give Rapport offline access",
            )
            .await?;
            tx.commit().await?;
            return Err(TokenError::NeedsReconnect);
        };
        let refresh_token = match open_token(secrets, &refresh_enc, account) {
            Ok(token) => token,
            Err(error) => {
                self.mark_undecryptable(tx, account).await?;
                return Err(error.into());
            }
        };
        match oauth.refresh(&refresh_token).await {
            Ok(grant) => {
                store_grant(&mut tx, account, self.user, &grant, secrets).await?;
                tx.commit().await?;
                Ok(grant.access_token)
            }
            Err(GoogleError::InvalidGrant) => {
                self.mark_needs_reconnect_in(
                    &mut tx,
                    account,
                    "Google access was revoked or expired",
                )
                .await?;
                tx.commit().await?;
                Err(TokenError::NeedsReconnect)
            }
            Err(other) => Err(other.into()),
        }
    }

    /// A stored token that does not open for this account (wrong key, corrupted, or
    /// copied from another account's row): the user has to connect Google again.
    async fn mark_undecryptable(
        self,
        mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
        account: Uuid,
    ) -> Result<(), sqlx::Error> {
        self.mark_needs_reconnect_in(
            &mut tx,
            account,
            "the stored Google token could not be decrypted; reconnect Google",
        )
        .await?;
        tx.commit().await
    }

    async fn mark_needs_reconnect_in(
        self,
        tx: &mut sqlx::PgConnection,
        account: Uuid,
        reason: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query!(
            r#"update accounts set status = 'needs_reconnect', last_error = $3, access_token_enc = null
               where id = $1 and user_id = $2"#,
            account,
            self.user.0,
            reason,
        )
        .execute(tx)
        .await?;
        Ok(())
    }

    /// The decrypted refresh token, for revoking it at Google.
    pub async fn google_refresh_token(
        self,
        account: Uuid,
        secrets: &SecretBox,
    ) -> Result<Option<String>, TokenError> {
        let sealed = sqlx::query_scalar!(
            r#"select refresh_token_enc from accounts where id = $1 and user_id = $2"#,
            account,
            self.user.0,
        )
        .fetch_optional(self.pool)
        .await?
        .ok_or(TokenError::NotFound)?;
        sealed
            .map(|s| open_token(secrets, &s, account))
            .transpose()
            .map_err(Into::into)
    }

    /// Forgets the tokens; with [`SyncedData::Delete`] also removes the account and
    /// everything synced through it (activities, participants, ledger).
    pub async fn disconnect(self, account: Uuid, data: SyncedData) -> Result<(), DomainError> {
        let affected = match data {
            SyncedData::Keep => sqlx::query!(
                r#"update accounts set access_token_enc = null, refresh_token_enc = null,
                          token_expires_at = null, status = 'disconnected', last_error = null
                   where id = $1 and user_id = $2"#,
                account,
                self.user.0,
            )
            .execute(self.pool)
            .await?
            .rows_affected(),
            SyncedData::Delete => sqlx::query!(
                "delete from accounts where id = $1 and user_id = $2",
                account,
                self.user.0
            )
            .execute(self.pool)
            .await?
            .rows_affected(),
        };
        // A channel's account may be among them.
        self.channel_keys.forget_user(self.user);
        if affected == 0 {
            return Err(DomainError::NotFound("account"));
        }
        Ok(())
    }

    /// Deletes the user and, through foreign keys, every row they own; then, from disk,
    /// the mbox uploads their import jobs named and the stored files no other user's
    /// activity still points at (the store keeps identical content once).
    pub async fn delete_user(self, files: &crate::files::FileStore) -> Result<(), DomainError> {
        let hashes = sqlx::query_scalar!(
            r#"select distinct content_sha256 as "hash!" from activities
               where user_id = $1 and content_sha256 is not null"#,
            self.user.0,
        )
        .fetch_all(self.pool)
        .await?;
        let imports = self.files().import_uploads(false).await?;
        sqlx::query!("delete from users where id = $1", self.user.0)
            .execute(self.pool)
            .await?;
        self.channel_keys.forget_user(self.user);
        for path in imports {
            remove_from_disk(&path).await;
        }
        for hash in hashes {
            let Some(hash) = crate::files::ContentHash::from_stored(&hash) else {
                continue;
            };
            let still_used = sqlx::query_scalar!(
                r#"select exists (select 1 from activities where content_sha256 = $1) as "used!""#,
                hash.as_bytes().as_slice(),
            )
            .fetch_one(self.pool)
            .await?;
            if !still_used {
                remove_from_disk(&files.path_of(&hash)).await;
            }
        }
        Ok(())
    }
}

/// Deletes a file the deleted user left; one already gone is fine.
async fn remove_from_disk(path: &std::path::Path) {
    match tokio::fs::remove_file(path).await {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => {
            tracing::warn!(%error, path = %path.display(), "could not delete a deleted user's file");
        }
    }
}

/// Opens a token stored for `account` (sealed with the account id as associated data).
fn open_token(secrets: &SecretBox, sealed: &[u8], account: Uuid) -> Result<String, CryptoError> {
    secrets.open_for(sealed, account.as_bytes())
}

/// Stores a grant's tokens sealed for `account`; a grant without a refresh token keeps
/// the stored one.
async fn store_grant(
    tx: &mut sqlx::PgConnection,
    account: Uuid,
    user: crate::UserId,
    grant: &TokenGrant,
    secrets: &SecretBox,
) -> Result<(), sqlx::Error> {
    let access = secrets.seal_for(&grant.access_token, account.as_bytes());
    let refresh = grant
        .refresh_token
        .as_deref()
        .map(|t| secrets.seal_for(t, account.as_bytes()));
    sqlx::query!(
        // The text (whitespace included) matches the cached query in domain/.sqlx.
        r#"update accounts set access_token_enc = $3, token_expires_at = $4,
                              refresh_token_enc = coalesce($5, refresh_token_enc)
                       where id = $1 and user_id = $2"#,
        account,
        user.0,
        access,
        grant.expires_at,
        refresh,
    )
    .execute(tx)
    .await?;
    Ok(())
}

/// A token as stored: sealed bytes.
type Sealed = Vec<u8>;

impl crate::Db {
    /// Re-seals OAuth tokens written before they were bound to their account (legacy
    /// form, no associated data) so they open only for their own row. Run at startup,
    /// after [`crate::Db::migrate`] and before anything reads tokens.
    ///
    /// Why here and not in a migration: SQL cannot re-encrypt, the key lives in the
    /// application. The version byte of the stored value ([`SecretBox::seal_for`]) marks
    /// upgraded rows, so no schema change is needed and running this again is a no-op.
    /// A value that opens in neither form is left alone: using it marks the account
    /// needs-reconnect. Returns how many accounts were re-sealed.
    pub async fn upgrade_token_encryption(&self, secrets: &SecretBox) -> Result<u64, DomainError> {
        // Runtime queries (like the session store): this runs once per start over few rows.
        let rows: Vec<(Uuid, Option<Sealed>, Option<Sealed>)> = sqlx::query_as(
            "select id, access_token_enc, refresh_token_enc from accounts
             where access_token_enc is not null or refresh_token_enc is not null",
        )
        .fetch_all(self.pool())
        .await?;
        let mut upgraded = 0;
        for (id, access, refresh) in rows {
            let reseal = |sealed: &Option<Vec<u8>>| {
                sealed
                    .as_deref()
                    .and_then(|s| secrets.reseal_for(s, id.as_bytes()).ok().flatten())
            };
            let (access, refresh) = (reseal(&access), reseal(&refresh));
            if access.is_none() && refresh.is_none() {
                continue;
            }
            sqlx::query(
                "update accounts set access_token_enc = coalesce($2, access_token_enc),
                                     refresh_token_enc = coalesce($3, refresh_token_enc)
                 where id = $1",
            )
            .bind(id)
            .bind(access)
            .bind(refresh)
            .execute(self.pool())
            .await?;
            upgraded += 1;
        }
        Ok(upgraded)
    }
}

/// Gmail access tokens for the sync: the stored grant, refreshed through Google when it
/// is about to expire (see [`AccountsScope::google_access_token`](crate::db::scopes::AccountsScope)).
#[derive(Clone, Debug)]
pub struct GoogleTokens {
    db: crate::Db,
    oauth: GoogleOAuth,
    secrets: SecretBox,
}

impl GoogleTokens {
    pub fn new(db: crate::Db, oauth: GoogleOAuth, secrets: SecretBox) -> Self {
        Self { db, oauth, secrets }
    }

    /// The owner of an account: workers know only the account id from the job.
    async fn owner(&self, account: Uuid) -> Result<crate::UserId, sqlx::Error> {
        sqlx::query_scalar!("select user_id from accounts where id = $1", account)
            .fetch_one(self.db.pool())
            .await
            .map(crate::UserId)
    }
}

impl crate::gmail::AccessTokens for GoogleTokens {
    async fn access_token(&self, account: Uuid) -> Result<String, crate::gmail::TokenError> {
        use crate::gmail::TokenError as Gmail;
        let user = self
            .owner(account)
            .await
            .map_err(|e| Gmail::Unavailable(e.to_string()))?;
        match self
            .db
            .for_user(user)
            .accounts()
            .google_access_token(account, &self.oauth, &self.secrets)
            .await
        {
            Ok(token) => Ok(token),
            Err(
                error @ (TokenError::NeedsReconnect | TokenError::NotFound | TokenError::Crypto(_)),
            ) => Err(Gmail::NeedsReconnect(error.to_string())),
            Err(other) => Err(Gmail::Unavailable(other.to_string())),
        }
    }

    async fn invalidate(&self, account: Uuid, _token: &str) {
        // Google refused the token before its expiry: make the next call refresh it.
        let expired = sqlx::query!(
            "update accounts set token_expires_at = now() where id = $1",
            account
        )
        .execute(self.db.pool())
        .await;
        if let Err(error) = expired {
            tracing::warn!(%error, "could not mark the access token expired");
        }
    }
}
