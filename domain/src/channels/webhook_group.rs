//! Storing webhooks a group at a time. Webhooks that arrive together share one
//! transaction and one set-based statement per step (the blocklist, the activities, then
//! everything that follows from their outcomes: participants, search documents, ledger
//! and counters), so the commit's flush and each statement's fixed cost (parse, plan,
//! executor start, the tables' check constraints and statement triggers) are paid once
//! per group: stored one per transaction, a webhook took thirteen round trips and ~1.6 ms
//! of Postgres CPU. A group is stored whole or not at all, and each webhook is answered
//! only after it commits. The rare ones (a retry, a call with recordings) finish one by
//! one inside the same transaction.

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

/// The session settings of a connection that writes groups: the insert triggers'
/// NOTIFYs would hold the notify lock through each commit's flush, so the processors and
/// live views are woken after the commit instead ([`wake_owners`]); the search documents
/// are written whole with the participants, not by the triggers in two steps.
/// And their statements are planned once per connection: planned afresh for each group
/// (Postgres kept choosing custom plans), the statement that follows the outcomes spent
/// 0.48 ms planning (inlining the search document functions) for 0.64 ms running. Every
/// statement a writer runs reads by a key it is given, which a generic plan does as well.
pub(crate) const WRITER_SETTINGS: [(&str, &str); 3] = [
    ("rapport.wake_later", "on"),
    ("rapport.search_docs_by_writer", "on"),
    ("plan_cache_mode", "force_generic_plan"),
];

/// Stores the group in one transaction on a connection of the shared pool and wakes the
/// owners' processors and live views; the outcomes are in the group's order, each as if
/// the webhooks had been stored one after another in that order.
pub(crate) async fn store_group(
    pool: &PgPool,
    group: &[Incoming<'_>],
) -> Result<Vec<IngestOutcome>, ChannelError> {
    let mut tx = pool.begin().await?;
    // The writers' settings, for this transaction only.
    let (names, values): (Vec<&str>, Vec<&str>) = WRITER_SETTINGS.iter().copied().unzip();
    sqlx::query!(
        "select count(set_config(s.name, s.value, true)) as \"settings!\"
         from unnest($1::text[], $2::text[]) as s(name, value)",
        &names as &[&str],
        &values as &[&str],
    )
    .fetch_one(&mut *tx)
    .await?;
    let outcomes = write_group(&mut tx, group).await?;
    tx.commit().await?;
    wake_owners(pool, &owners(group, &outcomes)).await;
    Ok(outcomes)
}

/// Writes the group inside the caller's transaction, on a connection with
/// [`WRITER_SETTINGS`]; the caller commits, then wakes the [`owners`].
pub(crate) async fn write_group(
    tx: &mut PgConnection,
    group: &[Incoming<'_>],
) -> Result<Vec<IngestOutcome>, ChannelError> {
    let blocked = count_blocklist_hits(tx, group).await?;
    let outcomes = insert_activities(tx, group, blocked).await?;
    record_outcomes(tx, group, &outcomes).await?;
    attach_recordings(tx, group, &outcomes).await?;
    Ok(outcomes)
}

/// The users with a newly stored activity, each once.
pub(crate) fn owners(group: &[Incoming<'_>], outcomes: &[IngestOutcome]) -> Vec<Uuid> {
    let mut owners: Vec<Uuid> = group
        .iter()
        .zip(outcomes)
        .filter(|(_, o)| matches!(o, IngestOutcome::Stored(_)))
        .map(|(w, _)| w.auth.user.0)
        .collect();
    owners.sort_unstable();
    owners.dedup();
    owners
}

/// Wakes the processors and the owners' live views once their webhooks are committed.
/// The webhooks are stored: a failed wake-up must not report them lost (their senders
/// would retry, as duplicates). Processors and live views also poll.
pub(crate) async fn wake_owners(pool: &PgPool, owners: &[Uuid]) {
    if owners.is_empty() {
        return;
    }
    if let Err(error) = wake_after_commit(pool, owners).await {
        tracing::warn!(%error, "stored webhooks, but could not notify processors and live views");
    }
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
        &kept.iter().map(|w| attachments(w)).collect::<Vec<_>>(),
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
fn ledger_lines<'a>(
    group: &'a [Incoming<'_>],
    outcomes: &[IngestOutcome],
) -> Vec<((Uuid, &'a str), LedgerLine)> {
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
    lines.into_iter().collect()
}

/// Everything that follows from the outcomes, in one statement: the new activities'
/// people, their search documents (content and people, as the triggers would build them
/// for any other writer), the ledger lines and the channels' counters (as
/// [`count_deliveries`] adds them). Known contacts (email, or phone in
/// E.164) are linked at once, so the activity shows on their timelines while it waits
/// for processing.
async fn record_outcomes(
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
    let stored: Vec<(&Incoming, Uuid)> = group
        .iter()
        .zip(outcomes)
        .filter_map(|(w, o)| match o {
            IngestOutcome::Stored(id) => Some((w, *id)),
            _ => None,
        })
        .collect();
    let lines = ledger_lines(group, outcomes);
    let tallies = TallyColumns::of(&tallies(group, outcomes));
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
           ),
           documents as (
             insert into activity_search (activity_id, user_id, occurred_at, doc)
             select a.id, a.user_id, a.occurred_at,
                    search_content_doc(a.channel, a.subject, a.body, a.attachments)
                      || coalesce(d.doc, '')
             from unnest($8::uuid[], $19::uuid[], $20::timestamptz[], $21::text[],
                         $22::text[], $23::text[], $24::jsonb[])
               as a(id, user_id, occurred_at, channel, subject, body, attachments)
               left join (
                 select activity_id,
                        search_people_doc(array_agg(role), array_agg(display_name),
                                          array_agg(address)) as doc
                 from people group by activity_id
               ) d on d.activity_id = a.id
           ),
           ledger as (
             insert into sync_ledger (user_id, account_id, external_id, outcome, rule,
                                      activity_id)
             select * from unnest($9::uuid[], $10::uuid[], $11::text[], $12::text[],
                                  $13::text[], $14::uuid[])
             on conflict (account_id, external_id) do update
               set outcome = excluded.outcome, rule = excluded.rule,
                   activity_id = coalesce(excluded.activity_id, sync_ledger.activity_id)
           )
           select count_channel_deliveries($15::uuid[], $16::int8[], $17::int8[], $18::int8[])
             as "channels!""#,
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
        &stored.iter().map(|(_, id)| *id).collect::<Vec<_>>(),
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
        &tallies.channels,
        &tallies.received,
        &tallies.duplicates,
        &tallies.dropped,
        // The new activities' content as just inserted: the documents need no read of
        // the activities.
        &stored
            .iter()
            .map(|(w, _)| w.auth.user.0)
            .collect::<Vec<_>>(),
        &stored
            .iter()
            .map(|(w, _)| w.webhook.activity.occurred_at)
            .collect::<Vec<_>>(),
        &stored
            .iter()
            .map(|(w, _)| w.webhook.activity.channel.as_str().to_owned())
            .collect::<Vec<_>>(),
        &stored
            .iter()
            .map(|(w, _)| w.webhook.activity.subject.as_deref().map(pg))
            .collect::<Vec<_>>() as &[Option<String>],
        &stored
            .iter()
            .map(|(w, _)| searchable_body(w))
            .collect::<Vec<_>>() as &[Option<String>],
        &stored
            .iter()
            .map(|(w, _)| attachments(w))
            .collect::<Vec<_>>(),
    )
    .fetch_one(&mut *tx)
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

/// Tallies as `count_channel_deliveries` takes them: a column each.
struct TallyColumns {
    channels: Vec<Uuid>,
    received: Vec<i64>,
    duplicates: Vec<i64>,
    dropped: Vec<i64>,
}

impl TallyColumns {
    fn of(tallies: &HashMap<Uuid, Tally>) -> Self {
        let mut columns = Self {
            channels: Vec::new(),
            received: Vec::new(),
            duplicates: Vec::new(),
            dropped: Vec::new(),
        };
        for (channel, tally) in tallies {
            columns.channels.push(*channel);
            columns.received.push(tally.received);
            columns.duplicates.push(tally.duplicates);
            columns.dropped.push(tally.dropped);
        }
        columns
    }
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

/// Adds to the channels' counters in the caller's transaction
/// (`count_channel_deliveries`: on this connection's shard, so concurrent writers never
/// wait for each other's commit; one counter row per channel made every webhook wait for
/// the previous one's flush). A zero tally still marks the channel as heard from now.
pub(crate) async fn count_deliveries(
    conn: &mut PgConnection,
    tallies: &HashMap<Uuid, Tally>,
) -> Result<(), sqlx::Error> {
    let tallies = TallyColumns::of(tallies);
    sqlx::query!(
        r#"select count_channel_deliveries($1::uuid[], $2::int8[], $3::int8[], $4::int8[])
             as "channels!""#,
        &tallies.channels,
        &tallies.received,
        &tallies.duplicates,
        &tallies.dropped,
    )
    .fetch_one(conn)
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

/// The body the search document reads (the text; the snippet is cut from it).
fn searchable_body(w: &Incoming) -> Option<String> {
    w.webhook.activity.text.as_deref().map(pg)
}

fn attachments(w: &Incoming) -> serde_json::Value {
    serde_json::Value::from(w.webhook.activity.attachments.clone())
}

/// Postgres text cannot hold NUL.
fn pg(text: &str) -> String {
    text.replace('\0', "")
}
