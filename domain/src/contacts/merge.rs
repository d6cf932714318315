//! Duplicates: suggestions with reasons, merge, and un-merge.
//!
//! A merge moves the loser's identities, activity participations and notes to the
//! winner, fills the winner's blank fields from the loser, and marks the loser
//! `merged_into` the winner. `contact_merges` keeps the winner's row as it was and the
//! ids of everything moved, so un-merge puts back exactly what the merge changed.

use api::contacts::MergeRule;
use api::{AddressKind, ParticipantRole};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::stats::refresh_as_of;
use crate::db::scopes::ContactsScope;
use crate::events::{self, ContactMergedPayload, Event};
use crate::{DomainError, UserId};

/// Another contact that may be the same person, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateSuggestion {
    pub contact_id: Uuid,
    pub display_name: Option<String>,
    pub primary_email: Option<String>,
    pub reasons: Vec<String>,
}

/// One entry of a contact's merge log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeRecord {
    pub id: Uuid,
    pub winner_id: Uuid,
    pub winner_name: Option<String>,
    pub loser_id: Uuid,
    pub loser_name: Option<String>,
    pub reason: Option<String>,
    /// Set when processing merged them on its own.
    pub rule: Option<MergeRule>,
    pub merged_at: DateTime<Utc>,
    pub unmerged_at: Option<DateTime<Utc>>,
}

/// A moved participation, keyed as `activity_participants` is.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct MovedParticipant {
    activity_id: Uuid,
    role: ParticipantRole,
    address_kind: AddressKind,
    address: String,
}

impl ContactsScope<'_> {
    /// Contacts that look like the same person as `contact`: the same name (at another
    /// address), a phone number ending in the same 8 digits, or the same LinkedIn profile;
    /// never one the user said is someone else.
    pub async fn duplicate_suggestions(
        self,
        contact: Uuid,
    ) -> Result<Vec<DuplicateSuggestion>, DomainError> {
        let rows = sqlx::query!(
            r#"with me as (
                 select id, lower(display_name) as name, lower(links ->> 'linkedin') as linkedin
                 from contacts where user_id = $1 and id = $2 and merged_into is null
               ),
               candidates as (
                 select o.id, 'Same name, different email address' as reason
                 from me join contacts o on o.user_id = $1 and lower(o.display_name) = me.name
                 where o.merged_into is null and o.id <> me.id
                 union all
                 select other.contact_id, 'Same phone number (…' || right(mine.value, 4) || ')'
                 from contact_identities mine
                 join contact_identities other on other.user_id = $1 and other.kind = 'phone'
                   and right(other.value, 8) = right(mine.value, 8)
                 where mine.user_id = $1 and mine.contact_id = $2 and mine.kind = 'phone'
                   and other.contact_id <> $2
                 union all
                 select o.id, 'Same LinkedIn profile'
                 from me join contacts o on o.user_id = $1
                   and lower(o.links ->> 'linkedin') = me.linkedin
                 where o.links ->> 'linkedin' is not null and o.merged_into is null and o.id <> me.id
               )
               select c.id as "id!", c.display_name,
                      array_agg(distinct cand.reason order by cand.reason) as "reasons!",
                      (select ci.value from contact_identities ci
                        where ci.contact_id = c.id and ci.kind = 'email'
                        order by ci.created_at, ci.value limit 1) as primary_email
               from candidates cand
               join contacts c on c.user_id = $1 and c.id = cand.id and c.merged_into is null
               where not exists (
                 select 1 from contact_distinct_pairs d
                 where d.user_id = $1 and d.contact_a = least(c.id, $2)
                   and d.contact_b = greatest(c.id, $2))
               group by c.id
               order by count(*) desc, c.display_name, c.id
               limit 20"#,
            self.user.0,
            contact,
        )
        .fetch_all(self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| DuplicateSuggestion {
                contact_id: r.id,
                display_name: r.display_name,
                primary_email: r.primary_email,
                reasons: r.reasons,
            })
            .collect())
    }

    /// Merges `loser` into `winner`; returns the merge's id (for un-merge). Both must
    /// be the user's and not merged already.
    pub async fn merge(
        self,
        winner: Uuid,
        loser: Uuid,
        reason: Option<&str>,
    ) -> Result<Uuid, DomainError> {
        if winner == loser {
            return Err(DomainError::invalid(
                "merge",
                "a contact cannot be merged into itself",
            ));
        }
        let mut tx = self.pool.begin().await?;
        let live = sqlx::query_scalar!(
            r#"select count(*) as "n!" from (
                 select id from contacts
                 where user_id = $1 and id in ($2, $3) and merged_into is null
                 order by id for update) locked"#,
            self.user.0,
            winner,
            loser,
        )
        .fetch_one(&mut *tx)
        .await?;
        if live != 2 {
            return Err(DomainError::NotFound("contact"));
        }
        let merge_id = merge_locked(
            &mut tx,
            self.user,
            MergeInto {
                winner,
                loser,
                reason,
                rule: None,
            },
        )
        .await?;
        refresh_as_of(&mut tx, self.user, &[winner, loser], Utc::now()).await?;
        tx.commit().await?;
        Ok(merge_id)
    }

    /// Undoes a merge exactly: moved rows go back, the winner's fields are restored and
    /// the loser is listed again. Only the latest live merge into a contact can be undone.
    pub async fn unmerge(self, merge: Uuid) -> Result<(), DomainError> {
        let mut tx = self.pool.begin().await?;
        let record = sqlx::query!(
            r#"select winner_id, loser_id, snapshot, rule is not null as "automatic!"
               from contact_merges
               where user_id = $1 and id = $2 and unmerged_at is null
               for update"#,
            self.user.0,
            merge,
        )
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound("merge"))?;
        let later = sqlx::query_scalar!(
            r#"select exists (select 1 from contact_merges m, contact_merges this
                 where this.id = $2 and m.user_id = $1 and m.winner_id = this.winner_id
                   and m.unmerged_at is null and m.merged_at > this.merged_at) as "later!""#,
            self.user.0,
            merge,
        )
        .fetch_one(&mut *tx)
        .await?;
        if later {
            return Err(DomainError::invalid(
                "un-merge",
                "undo the later merges into this contact first",
            ));
        }
        let (winner, loser, snapshot) = (record.winner_id, record.loser_id, &record.snapshot);
        sqlx::query!(
            r#"update contact_identities set contact_id = $3
               where user_id = $1 and contact_id = $2
                 and id in (select (jsonb_array_elements_text($4::jsonb -> 'identities'))::uuid)"#,
            self.user.0,
            winner,
            loser,
            snapshot,
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            r#"update activity_participants p set contact_id = $3
               from jsonb_to_recordset($4::jsonb -> 'participants')
                 as moved(activity_id uuid, role text, address_kind text, address text)
               where p.user_id = $1 and p.contact_id = $2 and p.activity_id = moved.activity_id
                 and p.role = moved.role and p.address_kind = moved.address_kind
                 and p.address = moved.address"#,
            self.user.0,
            winner,
            loser,
            snapshot,
        )
        .execute(&mut *tx)
        .await?;
        // Mail linked to the winner after the merge at one of the loser's addresses
        // was the loser's too.
        sqlx::query!(
            r#"update activity_participants p set contact_id = $3
               from contact_identities ci
               where p.user_id = $1 and p.contact_id = $2 and ci.user_id = $1
                 and ci.contact_id = $3 and ci.kind = p.address_kind and ci.value = p.address"#,
            self.user.0,
            winner,
            loser,
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            r#"update notes set contact_id = $3
               where user_id = $1 and contact_id = $2
                 and id in (select (jsonb_array_elements_text($4::jsonb -> 'notes'))::uuid)"#,
            self.user.0,
            winner,
            loser,
            snapshot,
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            r#"update contacts set
                 display_name = $3::jsonb -> 'winner' ->> 'display_name',
                 title = $3::jsonb -> 'winner' ->> 'title',
                 company_id = ($3::jsonb -> 'winner' ->> 'company_id')::uuid,
                 notes = $3::jsonb -> 'winner' ->> 'notes',
                 tags = array(select jsonb_array_elements_text($3::jsonb -> 'winner' -> 'tags')),
                 links = $3::jsonb -> 'winner' -> 'links',
                 custom_fields = $3::jsonb -> 'winner' -> 'custom_fields',
                 field_sources = $3::jsonb -> 'winner' -> 'field_sources'
               where user_id = $1 and id = $2"#,
            self.user.0,
            winner,
            snapshot,
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            "update contacts set merged_into = null where user_id = $1 and id = $2",
            self.user.0,
            loser,
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            "update contact_merges set unmerged_at = now() where user_id = $1 and id = $2",
            self.user.0,
            merge,
        )
        .execute(&mut *tx)
        .await?;
        if record.automatic {
            // Undoing what processing decided says they are two people: it must not
            // decide it again.
            remember_distinct(&mut tx, self.user, winner, loser).await?;
        }
        refresh_as_of(&mut tx, self.user, &[winner, loser], Utc::now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The user's "not the same person": `a` and `b` are never merged automatically
    /// nor suggested as duplicates again.
    pub async fn not_the_same_person(self, a: Uuid, b: Uuid) -> Result<(), DomainError> {
        if a == b {
            return Err(DomainError::invalid(
                "not the same person",
                "pick two different contacts",
            ));
        }
        let mut tx = self.pool.begin().await?;
        let found = sqlx::query_scalar!(
            r#"select count(*) as "n!" from contacts where user_id = $1 and id in ($2, $3)"#,
            self.user.0,
            a,
            b,
        )
        .fetch_one(&mut *tx)
        .await?;
        if found != 2 {
            return Err(DomainError::NotFound("contact"));
        }
        remember_distinct(&mut tx, self.user, a, b).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Merges into or out of `contact`, newest first.
    pub async fn merge_log(self, contact: Uuid) -> Result<Vec<MergeRecord>, DomainError> {
        Ok(sqlx::query_as!(
            MergeRecord,
            r#"select m.id, m.winner_id, w.display_name as winner_name, m.loser_id,
                      l.display_name as loser_name, m.reason, m.rule as "rule: MergeRule",
                      m.merged_at, m.unmerged_at
               from contact_merges m
               join contacts w on w.user_id = m.user_id and w.id = m.winner_id
               join contacts l on l.user_id = m.user_id and l.id = m.loser_id
               where m.user_id = $1 and (m.winner_id = $2 or m.loser_id = $2)
               order by m.merged_at desc, m.id
               limit 50"#,
            self.user.0,
            contact,
        )
        .fetch_all(self.pool)
        .await?)
    }
}

/// One merge to make: `loser` goes into `winner`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MergeInto<'a> {
    pub winner: Uuid,
    pub loser: Uuid,
    /// What the merge log shows as its basis.
    pub reason: Option<&'a str>,
    /// Set for merges processing makes on its own.
    pub rule: Option<MergeRule>,
}

/// Merges in the caller's transaction, which holds both contacts' rows locked and has
/// checked that both are live and distinct. Moves the loser's identities,
/// participations and notes, fills the winner's blank fields, records the merge with
/// what un-merge needs and its event. Stats are the caller's to refresh.
pub(crate) async fn merge_locked(
    conn: &mut PgConnection,
    user: UserId,
    merge: MergeInto<'_>,
) -> Result<Uuid, sqlx::Error> {
    let MergeInto {
        winner,
        loser,
        reason,
        rule,
    } = merge;
    let winner_before = sqlx::query_scalar!(
        r#"select jsonb_build_object(
             'display_name', display_name, 'title', title, 'company_id', company_id,
             'notes', notes, 'tags', tags, 'links', links, 'custom_fields', custom_fields,
             'field_sources', field_sources) as "row!"
           from contacts where user_id = $1 and id = $2"#,
        user.0,
        winner,
    )
    .fetch_one(&mut *conn)
    .await?;
    let identities = sqlx::query_scalar!(
        r#"update contact_identities set contact_id = $2
           where user_id = $1 and contact_id = $3 returning id"#,
        user.0,
        winner,
        loser,
    )
    .fetch_all(&mut *conn)
    .await?;
    let participants: Vec<MovedParticipant> = sqlx::query_as!(
        MovedParticipant,
        r#"update activity_participants set contact_id = $2
           where user_id = $1 and contact_id = $3
           returning activity_id, role as "role: ParticipantRole",
                     address_kind as "address_kind: AddressKind", address"#,
        user.0,
        winner,
        loser,
    )
    .fetch_all(&mut *conn)
    .await?;
    let notes = sqlx::query_scalar!(
        r#"update notes set contact_id = $2 where user_id = $1 and contact_id = $3 returning id"#,
        user.0,
        winner,
        loser,
    )
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query!(
        r#"update contacts w set
             display_name = coalesce(w.display_name, l.display_name),
             title = coalesce(w.title, l.title),
             company_id = coalesce(w.company_id, l.company_id),
             notes = case when w.notes = '' then l.notes else w.notes end,
             tags = array(select distinct t from unnest(w.tags || l.tags) as t order by t),
             links = l.links || w.links,
             custom_fields = l.custom_fields || w.custom_fields,
             field_sources = l.field_sources || w.field_sources
           from contacts l
           where w.user_id = $1 and w.id = $2 and l.user_id = $1 and l.id = $3"#,
        user.0,
        winner,
        loser,
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "update contacts set merged_into = $2 where user_id = $1 and id = $3",
        user.0,
        winner,
        loser,
    )
    .execute(&mut *conn)
    .await?;
    let snapshot = json!({
        "winner": winner_before,
        "identities": identities,
        "participants": participants,
        "notes": notes,
    });
    let merge_id = sqlx::query_scalar!(
        r#"insert into contact_merges (user_id, winner_id, loser_id, reason, rule, snapshot)
           values ($1, $2, $3, $4, $5, $6) returning id"#,
        user.0,
        winner,
        loser,
        reason,
        rule.map(MergeRule::as_str),
        snapshot,
    )
    .fetch_one(&mut *conn)
    .await?;
    let merged = Event::ContactMerged(ContactMergedPayload {
        merge_id,
        winner_id: winner,
        loser_id: loser,
    });
    events::record(conn, user, &merged).await?;
    Ok(merge_id)
}

/// Records that `a` and `b` are different people (idempotent).
pub(crate) async fn remember_distinct(
    conn: &mut PgConnection,
    user: UserId,
    a: Uuid,
    b: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"insert into contact_distinct_pairs (user_id, contact_a, contact_b)
           values ($1, least($2::uuid, $3::uuid), greatest($2::uuid, $3::uuid))
           on conflict do nothing"#,
        user.0,
        a,
        b,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}
