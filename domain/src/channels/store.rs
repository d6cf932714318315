//! Channels, their keys and counters, the blocklist, and storing a webhook's activity.
//! A webhook is written in one transaction: the activity (state `raw`, for the
//! processing workers), its participants, its ledger row and the channel's counters, or
//! nothing at all.

use api::Provider;
use api::channels::ChannelView;
use sqlx::PgConnection;
use uuid::Uuid;

use super::providers::ParsedWebhook;
use super::{
    Address, BlockEntry, BlocklistEntry, Channel, ChannelDefaults, ChannelError, ChannelProvider,
    Direction, IngestionKey, KeyHash,
};
use crate::db::scopes::ChannelsScope;
use crate::processing::wake_processors;
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
    /// channel is told apart only once the key is right.
    pub async fn authorize_channel(
        &self,
        channel: Uuid,
        presented_key: &str,
    ) -> Result<ChannelAuth, ChannelError> {
        let row = sqlx::query!(
            r#"select user_id, account_id, provider, default_channel as "default_channel: Channel",
                      default_direction as "default_direction: Direction", key_sha256, enabled
               from ingestion_channels where id = $1"#,
            channel,
        )
        .fetch_optional(self.pool())
        .await?;
        // Hash and compare even for an unknown channel, so timing tells nothing.
        let stored = row.as_ref().map(|r| r.key_sha256.as_slice()).unwrap_or(&[]);
        let key_matches = KeyHash::from_stored(stored).matches(presented_key);
        let Some(row) = row.filter(|_| key_matches) else {
            return Err(ChannelError::Unauthorized);
        };
        if !row.enabled {
            return Err(ChannelError::Disabled);
        }
        let stored_value = |e: DomainError| ChannelError::Database(sqlx::Error::Decode(e.into()));
        Ok(ChannelAuth {
            user: UserId(row.user_id),
            channel,
            account: row.account_id,
            provider: ChannelProvider::parse(&row.provider).map_err(stored_value)?,
            defaults: ChannelDefaults {
                channel: row.default_channel,
                direction: row.default_direction,
            },
        })
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
        let activity = &webhook.activity;
        let mut tx = self.pool.begin().await?;
        // The insert trigger's NOTIFY would hold the notify lock through this commit's
        // flush; the processors are woken after the commit instead.
        sqlx::query_scalar!("select set_config('rapport.wake_later', 'on', true)")
            .fetch_one(&mut *tx)
            .await?;

        let (emails, domains, phones) = sender_keys(activity.senders());
        let blocked = sqlx::query!(
            r#"update blocklist set hits = hits + 1
               where user_id = $1 and ((kind = 'email' and value = any($2))
                  or (kind = 'domain' and value = any($3))
                  or (kind = 'phone' and value = any($4)))
               returning kind, value"#,
            self.user.0,
            &emails,
            &domains,
            &phones,
        )
        .fetch_all(&mut *tx)
        .await?;
        if let Some(hit) = blocked.first() {
            let entry = BlockEntry::from_stored(&hit.kind, &hit.value)
                .map_or_else(|| hit.value.clone(), |e| e.display());
            count_delivery(&mut tx, auth.channel, Delivery::Dropped).await?;
            sqlx::query!(
                r#"insert into sync_ledger (user_id, account_id, external_id, outcome, rule)
                   values ($1, $2, $3, 'filtered', $4)
                   on conflict (account_id, external_id) do update
                     set outcome = excluded.outcome, rule = excluded.rule"#,
                self.user.0,
                auth.account,
                activity.external_id,
                format!("blocklist:{entry}"),
            )
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            return Ok(IngestOutcome::Dropped { entry });
        }

        let inserted = sqlx::query_scalar!(
            r#"insert into activities (user_id, account_id, external_id, channel, direction,
                 occurred_at, thread_key, subject, snippet, body_text, body_html, headers,
                 attachments, raw_payload, size_bytes)
               values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
               on conflict (account_id, external_id) do nothing
               returning id"#,
            self.user.0,
            auth.account,
            activity.external_id,
            activity.channel.as_str(),
            activity.direction.as_str(),
            activity.occurred_at,
            activity.conversation_key().as_deref().map(pg),
            activity.subject.as_deref().map(pg),
            activity.snippet().as_deref().map(pg),
            activity.text.as_deref().map(pg),
            activity.html.as_deref().map(pg),
            &activity.headers,
            serde_json::Value::from(activity.attachments.clone()),
            &webhook.raw,
            i64::try_from(webhook.raw.to_string().len()).unwrap_or(i64::MAX),
        )
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = inserted else {
            let existing = sqlx::query_scalar!(
                r#"select id from activities
                   where user_id = $1 and account_id = $2 and external_id = $3"#,
                self.user.0,
                auth.account,
                activity.external_id,
            )
            .fetch_one(&mut *tx)
            .await?;
            count_delivery(&mut tx, auth.channel, Delivery::Duplicate).await?;
            // A later status callback of the same call may name its recording.
            self.attach_recordings(&mut tx, auth, existing, webhook)
                .await?;
            tx.commit().await?;
            return Ok(IngestOutcome::Duplicate(existing));
        };

        // Known contacts (email, or phone in E.164) are linked at once, so the activity
        // shows on their timelines while it waits for processing.
        let people = &activity.participants;
        sqlx::query!(
            r#"insert into activity_participants
                 (user_id, activity_id, role, address_kind, address, display_name, occurred_at,
                  contact_id)
               select $1, $2, p.role, p.kind, p.address, p.display_name, $3,
                      (select coalesce(c.merged_into, c.id)
                       from contact_identities ci
                       join contacts c on c.user_id = ci.user_id and c.id = ci.contact_id
                       where ci.user_id = $1 and ci.kind = p.kind and ci.value = p.address)
               from unnest($4::text[], $5::text[], $6::text[], $7::text[])
                 as p(role, kind, address, display_name)
               on conflict do nothing"#,
            self.user.0,
            id,
            activity.occurred_at,
            &people
                .iter()
                .map(|p| p.role.as_str().to_owned())
                .collect::<Vec<_>>(),
            &people
                .iter()
                .map(|p| p.address.kind().as_str().to_owned())
                .collect::<Vec<_>>(),
            &people
                .iter()
                .map(|p| pg(p.address.value()))
                .collect::<Vec<_>>(),
            &people
                .iter()
                .map(|p| p.display_name.as_deref().map(pg))
                .collect::<Vec<_>>() as &[Option<String>],
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            r#"insert into sync_ledger (user_id, account_id, external_id, outcome, activity_id)
               values ($1, $2, $3, 'imported', $4)
               on conflict (account_id, external_id) do update
                 set outcome = excluded.outcome, rule = null, activity_id = excluded.activity_id"#,
            self.user.0,
            auth.account,
            activity.external_id,
            id,
        )
        .execute(&mut *tx)
        .await?;
        count_delivery(&mut tx, auth.channel, Delivery::Received).await?;
        self.attach_recordings(&mut tx, auth, id, webhook).await?;
        tx.commit().await?;
        wake_processors(self.pool).await?;
        Ok(IngestOutcome::Stored(id))
    }

    /// Recordings the webhook names, and those whose callbacks came before it.
    async fn attach_recordings(
        self,
        tx: &mut PgConnection,
        auth: &ChannelAuth,
        activity: Uuid,
        webhook: &ParsedWebhook,
    ) -> Result<(), sqlx::Error> {
        let found = crate::calls::recordings_in(auth.provider, webhook);
        let external_id = &webhook.activity.external_id;
        crate::calls::attach_recordings(tx, self.user, auth.account, activity, external_id, &found)
            .await
    }
}

/// Postgres text cannot hold NUL.
fn pg(text: &str) -> String {
    text.replace('\0', "")
}

/// The senders as the blocklist stores them: emails, their domains, phone numbers.
fn sender_keys<'a>(
    senders: impl Iterator<Item = &'a Address>,
) -> (Vec<String>, Vec<String>, Vec<String>) {
    let (mut emails, mut domains, mut phones) = (Vec::new(), Vec::new(), Vec::new());
    for sender in senders {
        match sender {
            Address::Email(e) => {
                emails.push(e.as_str().to_owned());
                domains.push(e.domain().to_owned());
            }
            Address::Phone(p) => phones.push(p.as_str().to_owned()),
            Address::Handle(_) => {}
        }
    }
    (emails, domains, phones)
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

/// What a delivery to a channel counts as on its settings card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delivery {
    Received,
    Duplicate,
    Dropped,
    /// A recording or transcription callback: not an activity, but the channel is alive.
    Callback,
}

/// Counts a delivery in the caller's transaction, on the row of this connection's shard:
/// concurrent webhooks on different connections never wait for each other's commit
/// (one counter row per channel made every webhook wait for the previous one's flush).
pub(crate) async fn count_delivery(
    conn: &mut PgConnection,
    channel: Uuid,
    delivery: Delivery,
) -> Result<(), sqlx::Error> {
    let one = |d: Delivery| i64::from(delivery == d);
    sqlx::query!(
        r#"insert into ingestion_channel_counts
             (channel_id, shard, received, duplicates, dropped, last_received_at)
           values ($1, pg_backend_pid() % 16, $2, $3, $4, now())
           on conflict (channel_id, shard) do update
             set received = ingestion_channel_counts.received + excluded.received,
                 duplicates = ingestion_channel_counts.duplicates + excluded.duplicates,
                 dropped = ingestion_channel_counts.dropped + excluded.dropped,
                 last_received_at = greatest(ingestion_channel_counts.last_received_at,
                                             excluded.last_received_at)"#,
        channel,
        one(Delivery::Received),
        one(Delivery::Duplicate),
        one(Delivery::Dropped),
    )
    .execute(conn)
    .await?;
    Ok(())
}
