//! Connecting a Facebook Page (and its Instagram professional account): the token is
//! checked against Graph before anything is stored, then sealed with [`SecretBox`]
//! bound to the Page's `accounts` row, whose status says when it needs reconnecting.

use api::AccountStatus;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::graph::{GraphApi, GraphError};
use crate::DomainError;
use crate::crypto::SecretBox;
use crate::db::scopes::MetaScope;

/// The Settings form, checked.
#[derive(Clone, PartialEq, Eq)]
pub struct MetaConnect {
    pub page_id: String,
    pub page_token: String,
    pub instagram_id: Option<String>,
    /// `https://graph.facebook.com/v21.0`, or a fake's.
    pub graph_url: String,
}

impl std::fmt::Debug for MetaConnect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetaConnect")
            .field("page_id", &self.page_id)
            .field("page_token", &crate::crypto::REDACTED)
            .field("instagram_id", &self.instagram_id)
            .field("graph_url", &self.graph_url)
            .finish()
    }
}

impl MetaConnect {
    pub const GRAPH_URL: &str = "https://graph.facebook.com/v21.0";

    pub fn parse(
        page_id: &str,
        page_token: &str,
        instagram_id: &str,
        graph_url: &str,
    ) -> Result<Self, DomainError> {
        let numeric = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
        let page_id = page_id.trim();
        if !numeric(page_id) {
            return Err(DomainError::invalid(
                "page id",
                "the Page's numeric id, like 104012345678901",
            ));
        }
        let page_token = page_token.trim();
        if page_token.is_empty() || page_token.chars().any(char::is_whitespace) {
            return Err(DomainError::invalid(
                "page access token",
                "paste the Page access token",
            ));
        }
        let instagram_id = instagram_id.trim();
        if !instagram_id.is_empty() && !numeric(instagram_id) {
            return Err(DomainError::invalid(
                "Instagram account id",
                "the Instagram professional account's numeric id, or empty",
            ));
        }
        let graph_url = match graph_url.trim() {
            "" => Self::GRAPH_URL,
            url => url,
        };
        let parsed = reqwest::Url::parse(graph_url)
            .map_err(|_| DomainError::invalid("Graph URL", "not a valid URL"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(DomainError::invalid("Graph URL", "use an https:// address"));
        }
        Ok(Self {
            page_id: page_id.to_owned(),
            page_token: page_token.to_owned(),
            instagram_id: (!instagram_id.is_empty()).then(|| instagram_id.to_owned()),
            graph_url: graph_url.trim_end_matches('/').to_owned(),
        })
    }
}

/// A connected Page as the poll and the agent read it.
#[derive(Clone)]
pub struct Integration {
    pub id: Uuid,
    pub account_id: Uuid,
    pub page_id: String,
    pub instagram_id: Option<String>,
    pub graph_url: String,
    pub token: String,
    pub status: AccountStatus,
    pub last_fetch: Option<DateTime<Utc>>,
    pub backoff_until: Option<DateTime<Utc>>,
    pub ai_default: bool,
}

impl std::fmt::Debug for Integration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Integration")
            .field("id", &self.id)
            .field("page_id", &self.page_id)
            .field("token", &crate::crypto::REDACTED)
            .field("status", &self.status)
            .field("last_fetch", &self.last_fetch)
            .finish()
    }
}

/// A connected Page as Settings shows it.
pub type IntegrationSummary = api::shop::PageView;

impl MetaScope<'_> {
    /// Connects (or reconnects) a Page. A token Graph refuses is a precise
    /// [`DomainError::Invalid`] with Graph's message, and nothing is stored.
    pub async fn connect<G: GraphApi>(
        self,
        graph: &G,
        form: &MetaConnect,
        secrets: &SecretBox,
    ) -> Result<Uuid, DomainError> {
        let probe = format!(
            "{}/{}/conversations?platform=messenger&fields=id&limit=1",
            form.graph_url, form.page_id
        );
        graph
            .get(&probe, &form.page_token)
            .await
            .map_err(|e| match e {
                GraphError::Transport(detail) => {
                    DomainError::invalid("Graph URL", format!("could not reach Graph: {detail}"))
                }
                other => DomainError::invalid("page access token", other.message()),
            })?;
        let mut tx = self.pool.begin().await?;
        let account = sqlx::query_scalar!(
            r#"insert into accounts (user_id, provider, external_id, display_name, status)
               values ($1, 'meta', $2, $3, 'active')
               on conflict (user_id, provider, external_id) do update set
                 status = 'active', last_error = null
               returning id"#,
            self.user.0,
            form.page_id,
            format!("Facebook Page {}", form.page_id),
        )
        .fetch_one(&mut *tx)
        .await?;
        let sealed = secrets.seal_for(&form.page_token, account.as_bytes());
        sqlx::query!(
            "update accounts set access_token_enc = $3 where id = $1 and user_id = $2",
            account,
            self.user.0,
            sealed,
        )
        .execute(&mut *tx)
        .await?;
        let id = sqlx::query_scalar!(
            r#"insert into meta_integrations (user_id, account_id, page_id, instagram_id, graph_url)
               values ($1, $2, $3, $4, $5)
               on conflict (user_id, page_id) do update set
                 instagram_id = excluded.instagram_id, graph_url = excluded.graph_url,
                 backoff_until = null
               returning id"#,
            self.user.0,
            account,
            form.page_id,
            form.instagram_id,
            form.graph_url,
        )
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The user's connected Pages.
    pub async fn integrations(self) -> Result<Vec<IntegrationSummary>, DomainError> {
        let rows = sqlx::query!(
            r#"select i.id, i.page_id, i.instagram_id, i.graph_url, a.status as "status: AccountStatus",
                      a.last_error, i.last_fetch_timestamp, i.ai_default
               from meta_integrations i join accounts a on a.id = i.account_id
               where i.user_id = $1 order by i.created_at"#,
            self.user.0,
        )
        .fetch_all(self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| IntegrationSummary {
                id: r.id,
                page_id: r.page_id,
                instagram_id: r.instagram_id,
                graph_url: r.graph_url,
                status: r.status,
                last_error: r.last_error,
                last_fetch: r.last_fetch_timestamp,
                ai_default: r.ai_default,
            })
            .collect())
    }

    /// Stops polling the Page and forgets its token; its conversations and orders stay,
    /// and connecting it again resumes where the poll stopped.
    pub async fn disconnect(self, integration: Uuid) -> Result<(), DomainError> {
        let account = sqlx::query_scalar!(
            "select account_id from meta_integrations where user_id = $1 and id = $2",
            self.user.0,
            integration,
        )
        .fetch_optional(self.pool)
        .await?
        .ok_or(DomainError::NotFound("integration"))?;
        self.accounts()
            .disconnect(account, crate::accounts::SyncedData::Keep)
            .await
    }

    /// Whether new conversations start with the agent on.
    pub async fn set_ai_default(self, integration: Uuid, on: bool) -> Result<(), DomainError> {
        let done = sqlx::query!(
            "update meta_integrations set ai_default = $3 where user_id = $1 and id = $2",
            self.user.0,
            integration,
            on,
        )
        .execute(self.pool)
        .await?;
        match done.rows_affected() {
            0 => Err(DomainError::NotFound("integration")),
            _ => Ok(()),
        }
    }

    /// The integration with its token opened; `None` when it is not this user's. A
    /// token that does not open marks the Page needs-reconnect.
    pub async fn integration(
        self,
        id: Uuid,
        secrets: &SecretBox,
    ) -> Result<Option<Integration>, DomainError> {
        let Some(row) = sqlx::query!(
            r#"select i.id, i.account_id, i.page_id, i.instagram_id, i.graph_url,
                      i.last_fetch_timestamp, i.backoff_until, i.ai_default,
                      a.status as "status: AccountStatus", a.access_token_enc
               from meta_integrations i join accounts a on a.id = i.account_id
               where i.user_id = $1 and i.id = $2"#,
            self.user.0,
            id,
        )
        .fetch_optional(self.pool)
        .await?
        else {
            return Ok(None);
        };
        let token = row
            .access_token_enc
            .as_deref()
            .and_then(|sealed| secrets.open_for(sealed, row.account_id.as_bytes()).ok());
        let Some(token) = token else {
            self.accounts()
                .mark_status(
                    row.account_id,
                    AccountStatus::NeedsReconnect,
                    Some("the stored Page token could not be read; connect the Page again"),
                )
                .await?;
            return Ok(None);
        };
        Ok(Some(Integration {
            id: row.id,
            account_id: row.account_id,
            page_id: row.page_id,
            instagram_id: row.instagram_id,
            graph_url: row.graph_url,
            token,
            status: row.status,
            last_fetch: row.last_fetch_timestamp,
            backoff_until: row.backoff_until,
            ai_default: row.ai_default,
        }))
    }

    pub(super) async fn set_backoff(
        self,
        integration: Uuid,
        until: Option<DateTime<Utc>>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query!(
            "update meta_integrations set backoff_until = $3 where user_id = $1 and id = $2",
            self.user.0,
            integration,
            until,
        )
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// Moves the poll's timestamp (never backwards).
    pub(super) async fn save_last_fetch(
        self,
        integration: Uuid,
        at: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query!(
            r#"update meta_integrations
               set last_fetch_timestamp = greatest(coalesce(last_fetch_timestamp, $3), $3)
               where user_id = $1 and id = $2"#,
            self.user.0,
            integration,
            at,
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
    fn the_form_wants_numeric_ids_and_a_token() {
        let form = MetaConnect::parse(" 1001 ", " EAAB ", "", "").unwrap();
        assert_eq!(form.graph_url, MetaConnect::GRAPH_URL);
        assert_eq!(form.instagram_id, None);
        assert!(!format!("{form:?}").contains("EAAB"));
        assert!(MetaConnect::parse("shop", "EAAB", "", "").is_err());
        assert!(MetaConnect::parse("1001", "", "", "").is_err());
        assert!(MetaConnect::parse("1001", "EAAB", "ig", "").is_err());
        assert!(MetaConnect::parse("1001", "EAAB", "", "ftp://x").is_err());
        let fake = MetaConnect::parse("1001", "t", "178", "http://127.0.0.1:9/v21.0/").unwrap();
        assert_eq!(fake.graph_url, "http://127.0.0.1:9/v21.0");
    }
}
