//! Channels, their keys and counters, the blocklist, and storing a webhook's activity
//! (state `raw`, for the processing workers) with its participants, its ledger row and
//! the channel's counters, in one transaction: see `webhook_group`.

use api::Provider;
use api::channels::ChannelView;
use uuid::Uuid;

use super::key_cache::StoredChannel;
use super::providers::ParsedWebhook;
use super::webhook_group::{Incoming, store_group};
use super::{
    BlockEntry, BlocklistEntry, Channel, ChannelDefaults, ChannelError, ChannelProvider, Direction,
    IngestionKey, KeyHash,
};
use crate::db::scopes::ChannelsScope;
use crate::{Db, DomainError, UserId};

/// What the user asks for when creating a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewChannel {
    pub name: String,
    pub provider: ChannelProvider,
    pub defaults: ChannelDefaults,
}

/// A channel whose key was checked: the only way to write through a webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelAuth {
    pub user: UserId,
    pub channel: Uuid,
    pub account: Uuid,
    pub provider: ChannelProvider,
    pub defaults: ChannelDefaults,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IngestOutcome {
    /// A new `raw` activity.
    Stored(Uuid),
    /// The provider sent this id before (a retry); nothing changed.
    Duplicate(Uuid),
    /// A sender is on the blocklist; counted, not stored.
    Dropped { entry: String },
}

impl Db {
    /// Checks a presented key against the channel's stored hash, in constant time. An
    /// unknown channel, a missing key and a wrong key are the same answer; a disabled
    /// channel is told apart only once the key is right. The channel is read through the
    /// [`key_cache`](super::key_cache).
    pub async fn authorize_channel(
        &self,
        channel: Uuid,
        presented_key: &str,
    ) -> Result<ChannelAuth, ChannelError> {
        let (stored, read) = match self.channel_keys().get(channel) {
            Ok(stored) => (Some(stored), None),
            Err(start) => (self.read_channel(channel).await?, Some(start)),
        };
        // Hash and compare even for an unknown channel, so timing tells nothing.
        let digest = stored.as_ref().map_or(KeyHash([0; 32]), |s| s.key);
        let key_matches = digest.matches(presented_key);
        let Some(stored) = stored.filter(|_| key_matches) else {
            return Err(ChannelError::Unauthorized);
        };
        if let Some(start) = read {
            self.channel_keys().keep(channel, stored.clone(), start);
        }
        if !stored.enabled {
            return Err(ChannelError::Disabled);
        }
        Ok(ChannelAuth {
            user: stored.user,
            channel,
            account: stored.account,
            provider: stored.provider,
            defaults: stored.defaults,
        })
    }

    async fn read_channel(&self, channel: Uuid) -> Result<Option<StoredChannel>, ChannelError> {
        let row = sqlx::query!(
            r#"select user_id, account_id, provider, default_channel as "default_channel: Channel",
                      default_direction as "default_direction: Direction", key_sha256, enabled
               from ingestion_channels where id = $1"#,
            channel,
        )
        .fetch_optional(self.pool())
        .await?;
        let stored_value = |e: DomainError| ChannelError::Database(sqlx::Error::Decode(e.into()));
        row.map(|row| {
            Ok(StoredChannel {
                user: UserId(row.user_id),
                account: row.account_id,
                provider: ChannelProvider::parse(&row.provider).map_err(stored_value)?,
                defaults: ChannelDefaults {
                    channel: row.default_channel,
                    direction: row.default_direction,
                },
                key: KeyHash::from_stored(&row.key_sha256),
                enabled: row.enabled,
            })
        })
        .transpose()
    }

    /// Stores a parsed webhook for the channel's owner.
    pub async fn ingest_webhook(
        &self,
        auth: &ChannelAuth,
        webhook: &ParsedWebhook,
    ) -> Result<IngestOutcome, ChannelError> {
        self.for_user(auth.user)
            .channels()
            .ingest_webhook(auth, webhook)
            .await
    }

    /// Stores webhooks as one group, as the webhook writer does with those that arrive
    /// together: for tests that need to know which webhooks share a group.
    #[cfg(feature = "test-support")]
    pub async fn ingest_webhook_group(
        &self,
        group: &[(ChannelAuth, ParsedWebhook)],
    ) -> Result<Vec<IngestOutcome>, ChannelError> {
        let group: Vec<Incoming> = group
            .iter()
            .map(|(auth, webhook)| Incoming { auth, webhook })
            .collect();
        store_group(self.pool(), &group).await
    }
}

impl ChannelsScope<'_> {
    /// Creates a channel with its own account row and a fresh key, which is returned
    /// once and never stored.
    pub async fn create(
        self,
        new: &NewChannel,
    ) -> Result<(ChannelView, IngestionKey), DomainError> {
        let name = new.name.trim();
        if name.is_empty() || name.chars().count() > 80 {
            return Err(DomainError::invalid("name", "must be 1 to 80 characters"));
        }
        let key = IngestionKey::generate();
        let channel = Uuid::new_v4();
        let mut tx = self.pool.begin().await?;
        let account = sqlx::query_scalar!(
            r#"insert into accounts (user_id, provider, external_id, display_name)
               values ($1, $2, $3, $4) returning id"#,
            self.user.0,
            new.provider.as_str(),
            format!("channel:{channel}"),
            name,
        )
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query!(
            r#"insert into ingestion_channels (id, user_id, account_id, name, provider,
                 default_channel, default_direction, key_sha256)
               values ($1, $2, $3, $4, $5, $6, $7, $8)"#,
            channel,
            self.user.0,
            account,
            name,
            new.provider.as_str(),
            new.defaults.channel.as_str(),
            new.defaults.direction.as_str(),
            key.hash().0.to_vec(),
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        let summary = self
            .get(channel)
            .await?
            .ok_or(DomainError::NotFound("channel"))?;
        Ok((summary, key))
    }

    /// The user's channels as the settings page shows them (never their keys), oldest
    /// first.
    pub async fn list(self) -> Result<Vec<ChannelView>, DomainError> {
        self.select_channels(None).await
    }

    pub async fn get(self, id: Uuid) -> Result<Option<ChannelView>, DomainError> {
        Ok(self.select_channels(Some(id)).await?.pop())
    }

    /// One query for both reads, so a channel looks the same however it was found.
    async fn select_channels(self, id: Option<Uuid>) -> Result<Vec<ChannelView>, DomainError> {
        let views = sqlx::query_as!(
            ChannelView,
            r#"select id, name, provider as "provider: Provider",
                      default_channel as "default_channel: Channel",
                      default_direction as "default_direction: Direction", enabled,
                      coalesce(n.received, 0) as "received!", coalesce(n.duplicates, 0) as "duplicates!",
                      coalesce(n.dropped, 0) as "dropped!", n.last_received_at, key_rotated_at
               from ingestion_channels c
               left join lateral (
                 select sum(received)::bigint as received, sum(duplicates)::bigint as duplicates,
                        sum(dropped)::bigint as dropped, max(last_received_at) as last_received_at
                 from ingestion_channel_counts where channel_id = c.id) n on true
               where user_id = $1 and ($2::uuid is null or id = $2)
               order by created_at, id"#,
            self.user.0,
            id,
        )
        .fetch_all(self.pool)
        .await?;
        Ok(views)
    }

    pub async fn set_enabled(self, id: Uuid, enabled: bool) -> Result<(), DomainError> {
        let done = sqlx::query!(
            "update ingestion_channels set enabled = $3 where user_id = $1 and id = $2",
            self.user.0,
            id,
            enabled,
        )
        .execute(self.pool)
        .await?;
        self.channel_keys.forget(id);
        match done.rows_affected() {
            0 => Err(DomainError::NotFound("channel")),
            _ => Ok(()),
        }
    }

    /// Replaces the channel's key: the old one stops working at once.
    pub async fn rotate_key(self, id: Uuid) -> Result<IngestionKey, DomainError> {
        let key = IngestionKey::generate();
        let done = sqlx::query!(
            r#"update ingestion_channels set key_sha256 = $3, key_rotated_at = now()
               where user_id = $1 and id = $2"#,
            self.user.0,
            id,
            key.hash().0.to_vec(),
        )
        .execute(self.pool)
        .await?;
        self.channel_keys.forget(id);
        match done.rows_affected() {
            0 => Err(DomainError::NotFound("channel")),
            _ => Ok(key),
        }
    }

    pub async fn blocklist(self) -> Result<Vec<BlocklistEntry>, DomainError> {
        let rows = sqlx::query!(
            "select id, kind, value, hits from blocklist where user_id = $1 order by kind, value",
            self.user.0,
        )
        .fetch_all(self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                BlockEntry::from_stored(&r.kind, &r.value).map(|entry| BlocklistEntry {
                    id: r.id,
                    entry,
                    hits: r.hits,
                })
            })
            .collect())
    }

    pub async fn add_to_blocklist(self, entry: &BlockEntry) -> Result<Uuid, DomainError> {
        sqlx::query_scalar!(
            r#"insert into blocklist (user_id, kind, value) values ($1, $2, $3)
               on conflict (user_id, kind, value) do nothing returning id"#,
            self.user.0,
            entry.kind(),
            entry.value(),
        )
        .fetch_optional(self.pool)
        .await?
        .ok_or(DomainError::Conflict("blocklist entry"))
    }

    pub async fn remove_from_blocklist(self, id: Uuid) -> Result<(), DomainError> {
        let done = sqlx::query!(
            "delete from blocklist where user_id = $1 and id = $2",
            self.user.0,
            id,
        )
        .execute(self.pool)
        .await?;
        match done.rows_affected() {
            0 => Err(DomainError::NotFound("blocklist entry")),
            _ => Ok(()),
        }
    }

    /// Stores one webhook activity of this user's channel; see [`IngestOutcome`].
    pub async fn ingest_webhook(
        self,
        auth: &ChannelAuth,
        webhook: &ParsedWebhook,
    ) -> Result<IngestOutcome, ChannelError> {
        if auth.user != self.user {
            return Err(ChannelError::Unauthorized);
        }
        let mut outcomes = store_group(self.pool, &[Incoming { auth, webhook }]).await?;
        Ok(outcomes.remove(0))
    }
}

impl From<BlocklistEntry> for api::channels::BlockView {
    fn from(b: BlocklistEntry) -> Self {
        Self {
            id: b.id,
            entry: b.entry.display(),
            hits: b.hits,
        }
    }
}
