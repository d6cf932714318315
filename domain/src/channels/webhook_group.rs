//! Storing webhooks a group at a time. Webhooks that arrive together share one
//! transaction and one set-based statement per step (blocklist, activities, their
//! participants, the ledger, the counters), so the commit's flush and each statement's
//! fixed cost (parse, plan, executor start, the tables' check constraints and statement
//! triggers) are paid once per group: stored one per transaction, a webhook took thirteen
//! round trips and ~1.6 ms of Postgres CPU. A group is stored whole or not at all, and
//! each webhook is answered only after it commits. The rare ones (a retry, a call with
//! recordings) finish one by one inside the same transaction.

use std::collections::{HashMap, HashSet};

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::providers::ParsedWebhook;
use super::store::{ChannelAuth, IngestOutcome};
use super::{Address, BlockEntry, ChannelError, ChannelProvider};
use crate::processing::wake_after_commit;

/// One webhook of a group: its checked channel and its parsed payload.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Incoming<'a> {
    pub auth: &'a ChannelAuth,
    pub webhook: &'a ParsedWebhook,
}

/// Stores the group in one transaction; the outcomes are in the group's order, each as if
/// the webhooks had been stored one after another in that order.
pub(crate) async fn store_group(
    pool: &PgPool,
    group: &[Incoming<'_>],
) -> Result<Vec<IngestOutcome>, ChannelError> {
    let mut tx = pool.begin().await?;
    // The insert triggers' NOTIFYs would hold the notify lock through this commit's
    // flush; the processors and live views are woken after the commit instead. The
    // search documents are written whole with the participants, not by the triggers in
    // two steps.
    sqlx::query!(
        "select set_config('rapport.wake_later', 'on', true) as wake_later,
                set_config('rapport.search_docs_by_writer', 'on', true) as search_docs"
    )
    .fetch_one(&mut *tx)
    .await?;
    let blocked = count_blocklist_hits(&mut tx, group).await?;
    let outcomes = insert_activities(&mut tx, group, blocked).await?;
    insert_participants_and_documents(&mut tx, group, &outcomes).await?;
    write_ledger(&mut tx, group, &outcomes).await?;
    count_deliveries(&mut tx, &tallies(group, &outcomes)).await?;
    attach_recordings(&mut tx, group, &outcomes).await?;
    tx.commit().await?;
    let mut owners: Vec<Uuid> = group
        .iter()
        .zip(&outcomes)
        .filter(|(_, o)| matches!(o, IngestOutcome::Stored(_)))
        .map(|(w, _)| w.auth.user.0)
        .collect();
    owners.sort_unstable();
    owners.dedup();
    // The group is stored: a failed wake-up must not report it lost (its senders would
    // retry, as duplicates). Processors and live views also poll.
    if !owners.is_empty()
        && let Err(error) = wake_after_commit(pool, &owners).await
    {
        tracing::warn!(%error, "stored webhooks, but could not notify processors and live views");
    }
    Ok(outcomes)
}

/// Counts a hit on every blocklist entry a webhook's senders match (once per webhook and
/// entry) and returns, per webhook, the entry that drops it.
async fn count_blocklist_hits(
    tx: &mut PgConnection,
    group: &[Incoming<'_>],
) -> Result<Vec<Option<String>>, ChannelError> {
    let keys: Vec<Vec<(&'static str, String)>> = group
        .iter()
        .map(|w| sender_keys(w.webhook.activity.senders()))
        .collect();
    let (mut users, mut kinds, mut values) = (Vec::new(), Vec::new(), Vec::new());
    for (webhook, keys) in group.iter().zip(&keys) {
        for (kind, value) in keys {
            users.push(webhook.auth.user.0);
            kinds.push((*kind).to_owned());
            values.push(value.clone());
        }
    }
    if users.is_empty() {
        return Ok(vec![None; group.len()]);
    }
    let hits = sqlx::query!(
        r#"update blocklist b set hits = b.hits + k.webhooks
           from (select user_id, kind, value, count(*) as webhooks
                 from unnest($1::uuid[], $2::text[], $3::text[]) as k(user_id, kind, value)
                 group by user_id, kind, value) k
           where b.user_id = k.user_id and b.kind = k.kind and b.value = k.value
           returning b.user_id, b.kind, b.value"#,
        &users,
        &kinds,
        &values,
    )
    .fetch_all(&mut *tx)
    .await?;
    let hit: HashSet<(Uuid, &str, &str)> = hits
        .iter()
        .map(|h| (h.user_id, h.kind.as_str(), h.value.as_str()))
        .collect();
    Ok(group
        .iter()
        .zip(&keys)
        .map(|(webhook, keys)| {
            let (kind, value) = keys
                .iter()
                .find(|(kind, value)| hit.contains(&(webhook.auth.user.0, kind, value)))?;
            Some(
                BlockEntry::from_stored(kind, value).map_or_else(|| value.clone(), |e| e.display()),
            )
        })
        .collect())
}

/// The senders as the blocklist stores them (emails, their domains, phone numbers), each
/// key once.
fn sender_keys<'a>(senders: impl Iterator<Item = &'a Address>) -> Vec<(&'static str, String)> {
    let mut keys = Vec::new();
    for sender in senders {
        match sender {
            Address::Email(e) => {
                keys.push(("email", e.as_str().to_owned()));
                keys.push(("domain", e.domain().to_owned()));
            }
            Address::Phone(p) => keys.push(("phone", p.as_str().to_owned())),
            Address::Handle(_) => {}
        }
    }
    let mut seen = HashSet::new();
    keys.retain(|key| seen.insert(key.clone()));
    keys
}

/// Inserts the activities of the webhooks not dropped; a provider id the channel already
/// has (or an earlier webhook of the group has) is a duplicate of that activity.
async fn insert_activities(
    tx: &mut PgConnection,
    group: &[Incoming<'_>],
    blocked: Vec<Option<String>>,
) -> Result<Vec<IngestOutcome>, ChannelError> {
    let kept: Vec<&Incoming> = group
        .iter()
        .zip(&blocked)
        .filter(|(_, b)| b.is_none())
        .map(|(w, _)| w)
        .collect();
    let column = |f: &dyn Fn(&Incoming) -> Option<String>| -> Vec<Option<String>> {
        kept.iter().map(|w| f(w).as_deref().map(pg)).collect()
    };
    let inserted = sqlx::query!(
        r#"insert into activities (user_id, account_id, external_id, channel, direction,
             occurred_at, thread_key, subject, snippet, body_text, body_html, headers,
             attachments, raw_payload, size_bytes)
           select * from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[],
             $6::timestamptz[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[],
             $12::jsonb[], $13::jsonb[], $14::jsonb[], $15::int8[])
           on conflict (account_id, external_id) do nothing
           returning id, account_id, external_id"#,
        &kept.iter().map(|w| w.auth.user.0).collect::<Vec<_>>(),
        &kept.iter().map(|w| w.auth.account).collect::<Vec<_>>(),
        &kept
            .iter()
            .map(|w| w.webhook.activity.external_id.clone())
            .collect::<Vec<_>>(),
        &kept
            .iter()
            .map(|w| w.webhook.activity.channel.as_str().to_owned())
            .collect::<Vec<_>>(),
        &kept
            .iter()
            .map(|w| w.webhook.activity.direction.as_str().to_owned())
            .collect::<Vec<_>>(),
        &kept
            .iter()
            .map(|w| w.webhook.activity.occurred_at)
            .collect::<Vec<_>>(),
        &column(&|w| w.webhook.activity.conversation_key()) as &[Option<String>],
        &column(&|w| w.webhook.activity.subject.clone()) as &[Option<String>],
        &column(&|w| w.webhook.activity.snippet()) as &[Option<String>],
        &column(&|w| w.webhook.activity.text.clone()) as &[Option<String>],
        &column(&|w| w.webhook.activity.html.clone()) as &[Option<String>],
        &kept
            .iter()
            .map(|w| w.webhook.activity.headers.clone())
            .collect::<Vec<_>>(),
        &kept
            .iter()
            .map(|w| serde_json::Value::from(w.webhook.activity.attachments.clone()))
            .collect::<Vec<_>>(),
        &kept
            .iter()
            .map(|w| w.webhook.raw.clone())
            .collect::<Vec<_>>(),
        &kept
            .iter()
            .map(|w| i64::try_from(w.webhook.raw.to_string().len()).unwrap_or(i64::MAX))
            .collect::<Vec<_>>(),
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut new_ids: HashMap<(Uuid, String), Uuid> = inserted
        .into_iter()
        .map(|r| ((r.account_id, r.external_id), r.id))
        .collect();
    let mut outcomes: Vec<Option<IngestOutcome>> = group
        .iter()
        .zip(blocked)
        .map(|(w, blocked)| match blocked {
            Some(entry) => Some(IngestOutcome::Dropped { entry }),
            None => new_ids
                .remove(&(w.auth.account, w.webhook.activity.external_id.clone()))
                .map(IngestOutcome::Stored),
        })
        .collect();
    let retries: Vec<usize> = (0..group.len())
        .filter(|&i| outcomes[i].is_none())
        .collect();
    if !retries.is_empty() {
        let existing = sqlx::query!(
            r#"select a.account_id, a.external_id, a.id
               from activities a
               join unnest($1::uuid[], $2::uuid[], $3::text[]) as w(user_id, account_id, external_id)
                 on a.user_id = w.user_id and a.account_id = w.account_id
                and a.external_id = w.external_id"#,
            &retries
                .iter()
                .map(|&i| group[i].auth.user.0)
                .collect::<Vec<_>>(),
            &retries
                .iter()
                .map(|&i| group[i].auth.account)
                .collect::<Vec<_>>(),
            &retries
                .iter()
                .map(|&i| group[i].webhook.activity.external_id.clone())
                .collect::<Vec<_>>(),
        )
        .fetch_all(&mut *tx)
        .await?;
        let existing: HashMap<(Uuid, &str), Uuid> = existing
            .iter()
            .map(|r| ((r.account_id, r.external_id.as_str()), r.id))
            .collect();
        for i in retries {
            let key = (
                group[i].auth.account,
                group[i].webhook.activity.external_id.as_str(),
            );
            let id = existing.get(&key).copied().ok_or_else(|| {
                // Only another user's channel sharing the account could hide it, which the
                // schema rules out (an account belongs to one user).
                ChannelError::Database(sqlx::Error::RowNotFound)
            })?;
            outcomes[i] = Some(IngestOutcome::Duplicate(id));
        }
    }
    Ok(outcomes.into_iter().flatten().collect())
}

/// The new activities' people, then their search documents (content and people, as the
/// triggers would build them for any other writer). Known contacts (email, or phone in
/// E.164) are linked at once, so the activity shows on their timelines while it waits
/// for processing.
async fn insert_participants_and_documents(
    tx: &mut PgConnection,
    group: &[Incoming<'_>],
    outcomes: &[IngestOutcome],
) -> Result<(), ChannelError> {
    let people: Vec<(&Incoming, Uuid, &super::Participant)> = group
        .iter()
        .zip(outcomes)
        .filter_map(|(w, o)| match o {
            IngestOutcome::Stored(id) => Some((w, *id)),
            _ => None,
        })
        .flat_map(|(w, id)| {
            w.webhook
                .activity
                .participants
                .iter()
                .map(move |p| (w, id, p))
        })
        .collect();
    let stored: Vec<Uuid> = outcomes
        .iter()
        .filter_map(|o| match o {
            IngestOutcome::Stored(id) => Some(*id),
            _ => None,
        })
        .collect();
    if stored.is_empty() {
        return Ok(());
    }
    sqlx::query!(
        r#"with people as (
             insert into activity_participants
               (user_id, activity_id, role, address_kind, address, display_name, occurred_at,
                contact_id)
             select p.user_id, p.activity_id, p.role, p.kind, p.address, p.display_name,
                    p.occurred_at,
                    (select coalesce(c.merged_into, c.id)
                     from contact_identities ci
                     join contacts c on c.user_id = ci.user_id and c.id = ci.contact_id
                     where ci.user_id = p.user_id and ci.kind = p.kind and ci.value = p.address)
             from unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::text[], $5::text[],
                         $6::text[], $7::text[])
               as p(user_id, activity_id, occurred_at, role, kind, address, display_name)
             on conflict do nothing
             returning activity_id, role, display_name, address
           )
           insert into activity_search (activity_id, user_id, occurred_at, doc)
           select a.id, a.user_id, a.occurred_at,
                  search_content_doc(a.channel, a.subject, coalesce(a.body_text, a.snippet),
                                     a.attachments)
                    || coalesce(d.doc, '')
           from activities a
             left join (
               select activity_id,
                      search_people_doc(array_agg(role), array_agg(display_name),
                                        array_agg(address)) as doc
               from people group by activity_id
             ) d on d.activity_id = a.id
           where a.id = any($8) and a.deleted_at is null and a.dismissed_at is null"#,
        &people
            .iter()
            .map(|(w, _, _)| w.auth.user.0)
            .collect::<Vec<_>>(),
        &people.iter().map(|(_, id, _)| *id).collect::<Vec<_>>(),
        &people
            .iter()
            .map(|(w, _, _)| w.webhook.activity.occurred_at)
            .collect::<Vec<_>>(),
        &people
            .iter()
            .map(|(_, _, p)| p.role.as_str().to_owned())
            .collect::<Vec<_>>(),
        &people
            .iter()
            .map(|(_, _, p)| p.address.kind().as_str().to_owned())
            .collect::<Vec<_>>(),
        &people
            .iter()
            .map(|(_, _, p)| pg(p.address.value()))
            .collect::<Vec<_>>(),
        &people
            .iter()
            .map(|(_, _, p)| p.display_name.as_deref().map(pg))
            .collect::<Vec<_>>() as &[Option<String>],
        &stored,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// One provider id's line in the sync ledger.
struct LedgerLine {
    user: Uuid,
    outcome: &'static str,
    rule: Option<String>,
    activity: Option<Uuid>,
}

/// The sync ledger's line for each provider id: imported (with its activity) or filtered
/// (with the blocklist entry). A retry changes nothing. Of two webhooks of the group with
/// the same id, the later one's line stands, as if stored one after the other.
async fn write_ledger(
    tx: &mut PgConnection,
    group: &[Incoming<'_>],
    outcomes: &[IngestOutcome],
) -> Result<(), ChannelError> {
    let mut lines: HashMap<(Uuid, &str), LedgerLine> = HashMap::new();
    for (w, outcome) in group.iter().zip(outcomes) {
        let user = w.auth.user.0;
        let line = match outcome {
            IngestOutcome::Stored(id) => LedgerLine {
                user,
                outcome: "imported",
                rule: None,
                activity: Some(*id),
            },
            IngestOutcome::Dropped { entry } => LedgerLine {
                user,
                outcome: "filtered",
                rule: Some(format!("blocklist:{entry}")),
                activity: None,
            },
            IngestOutcome::Duplicate(_) => continue,
        };
        lines.insert(
            (w.auth.account, w.webhook.activity.external_id.as_str()),
            line,
        );
    }
    if lines.is_empty() {
        return Ok(());
    }
    let lines: Vec<_> = lines.into_iter().collect();
    sqlx::query!(
        r#"insert into sync_ledger (user_id, account_id, external_id, outcome, rule, activity_id)
           select * from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[],
                                $6::uuid[])
           on conflict (account_id, external_id) do update
             set outcome = excluded.outcome, rule = excluded.rule,
                 activity_id = coalesce(excluded.activity_id, sync_ledger.activity_id)"#,
        &lines.iter().map(|(_, l)| l.user).collect::<Vec<_>>(),
        &lines.iter().map(|((a, _), _)| *a).collect::<Vec<_>>(),
        &lines
            .iter()
            .map(|((_, e), _)| (*e).to_owned())
            .collect::<Vec<_>>(),
        &lines
            .iter()
            .map(|(_, l)| l.outcome.to_owned())
            .collect::<Vec<_>>(),
        &lines
            .iter()
            .map(|(_, l)| l.rule.clone())
            .collect::<Vec<_>>() as &[Option<String>],
        &lines.iter().map(|(_, l)| l.activity).collect::<Vec<_>>() as &[Option<Uuid>],
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// What one channel's settings card counts for a group (or a single callback).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    pub received: i64,
    pub duplicates: i64,
    pub dropped: i64,
}

fn tallies(group: &[Incoming<'_>], outcomes: &[IngestOutcome]) -> HashMap<Uuid, Tally> {
    let mut tallies: HashMap<Uuid, Tally> = HashMap::new();
    for (w, outcome) in group.iter().zip(outcomes) {
        let tally = tallies.entry(w.auth.channel).or_default();
        match outcome {
            IngestOutcome::Stored(_) => tally.received += 1,
            IngestOutcome::Duplicate(_) => tally.duplicates += 1,
            IngestOutcome::Dropped { .. } => tally.dropped += 1,
        }
    }
    tallies
}

/// Adds to the channels' counters in the caller's transaction, on the rows of this
/// connection's shard: concurrent writers on different connections never wait for each
/// other's commit (one counter row per channel made every webhook wait for the previous
/// one's flush). A zero tally still marks the channel as heard from now.
pub(crate) async fn count_deliveries(
    conn: &mut PgConnection,
    tallies: &HashMap<Uuid, Tally>,
) -> Result<(), sqlx::Error> {
    let tallies: Vec<(&Uuid, &Tally)> = tallies.iter().collect();
    sqlx::query!(
        r#"insert into ingestion_channel_counts
             (channel_id, shard, received, duplicates, dropped, last_received_at)
           select t.channel_id, pg_backend_pid() % 16, t.received, t.duplicates, t.dropped,
                  now()
           from unnest($1::uuid[], $2::int8[], $3::int8[], $4::int8[])
             as t(channel_id, received, duplicates, dropped)
           on conflict (channel_id, shard) do update
             set received = ingestion_channel_counts.received + excluded.received,
                 duplicates = ingestion_channel_counts.duplicates + excluded.duplicates,
                 dropped = ingestion_channel_counts.dropped + excluded.dropped,
                 last_received_at = greatest(ingestion_channel_counts.last_received_at,
                                             excluded.last_received_at)"#,
        &tallies.iter().map(|(c, _)| **c).collect::<Vec<_>>(),
        &tallies.iter().map(|(_, t)| t.received).collect::<Vec<_>>(),
        &tallies
            .iter()
            .map(|(_, t)| t.duplicates)
            .collect::<Vec<_>>(),
        &tallies.iter().map(|(_, t)| t.dropped).collect::<Vec<_>>(),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Recordings a webhook names, and those whose callbacks came before its call: looked up
/// for the whole group at once, attached one call at a time (few webhooks have any).
async fn attach_recordings(
    tx: &mut PgConnection,
    group: &[Incoming<'_>],
    outcomes: &[IngestOutcome],
) -> Result<(), ChannelError> {
    let calls: Vec<(&Incoming, Uuid)> = group
        .iter()
        .zip(outcomes)
        .filter_map(|(w, o)| match o {
            IngestOutcome::Stored(id) | IngestOutcome::Duplicate(id) => Some((w, *id)),
            IngestOutcome::Dropped { .. } => None,
        })
        .collect();
    // Recordings wait for their call only when a Twilio callback came first.
    let twilio: Vec<&(&Incoming, Uuid)> = calls
        .iter()
        .filter(|(w, _)| w.auth.provider == ChannelProvider::Twilio)
        .collect();
    let waiting = if twilio.is_empty() {
        Vec::new()
    } else {
        sqlx::query!(
            r#"select distinct r.account_id, r.call_external_id
           from call_recordings r
           join unnest($1::uuid[], $2::text[]) as w(account_id, external_id)
             on r.account_id = w.account_id and r.call_external_id = w.external_id
           where r.activity_id is null"#,
            &twilio
                .iter()
                .map(|(w, _)| w.auth.account)
                .collect::<Vec<_>>(),
            &twilio
                .iter()
                .map(|(w, _)| w.webhook.activity.external_id.clone())
                .collect::<Vec<_>>(),
        )
        .fetch_all(&mut *tx)
        .await?
    };
    let waiting: HashSet<(Uuid, &str)> = waiting
        .iter()
        .map(|r| (r.account_id, r.call_external_id.as_str()))
        .collect();
    for (w, activity) in calls {
        let external_id = &w.webhook.activity.external_id;
        let found = crate::calls::recordings_in(w.auth.provider, w.webhook);
        if found.is_empty() && !waiting.contains(&(w.auth.account, external_id.as_str())) {
            continue;
        }
        crate::calls::attach_recordings(
            tx,
            w.auth.user,
            w.auth.account,
            activity,
            external_id,
            &found,
        )
        .await?;
    }
    Ok(())
}

/// Postgres text cannot hold NUL.
fn pg(text: &str) -> String {
    text.replace('\0', "")
}
