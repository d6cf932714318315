//! Duplicates: suggestions with reasons, merge, and un-merge.
//!
//! A merge moves the loser's identities, activity participations and notes to the
//! winner, fills the winner's blank fields from the loser, and marks the loser
//! `merged_into` the winner. `contact_merges` keeps the winner's row as it was and the
//! ids of everything moved, so un-merge puts back exactly what the merge changed.

use api::{AddressKind, ParticipantRole};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::stats::refresh_as_of;
use crate::DomainError;
use crate::db::scopes::ContactsScope;
use crate::events::{ContactMergedPayload, Event};

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
    /// address), a phone number ending in the same 8 digits, or the same LinkedIn profile.
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
        let winner_before = sqlx::query_scalar!(
            r#"select jsonb_build_object(
                 'display_name', display_name, 'title', title, 'company_id', company_id,
                 'notes', notes, 'tags', tags, 'links', links, 'custom_fields', custom_fields,
                 'field_sources', field_sources) as "row!"
               from contacts where user_id = $1 and id = $2"#,
            self.user.0,
            winner,
        )
        .fetch_one(&mut *tx)
        .await?;
        let identities = sqlx::query_scalar!(
            r#"update contact_identities set contact_id = $2
               where user_id = $1 and contact_id = $3 returning id"#,
            self.user.0,
            winner,
            loser,
        )
        .fetch_all(&mut *tx)
        .await?;
        let participants: Vec<MovedParticipant> = sqlx::query_as!(
            MovedParticipant,
            r#"update activity_participants set contact_id = $2
               where user_id = $1 and contact_id = $3
               returning activity_id, role as "role: ParticipantRole",
                         address_kind as "address_kind: AddressKind", address"#,
            self.user.0,
            winner,
            loser,
        )
        .fetch_all(&mut *tx)
        .await?;
        let notes = sqlx::query_scalar!(
            r#"update notes set contact_id = $2 where user_id = $1 and contact_id = $3 returning id"#,
            self.user.0,
            winner,
            loser,
        )
        .fetch_all(&mut *tx)
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
            self.user.0,
            winner,
            loser,
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            "update contacts set merged_into = $2 where user_id = $1 and id = $3",
            self.user.0,
            winner,
            loser,
        )
        .execute(&mut *tx)
        .await?;
        let snapshot = json!({
            "winner": winner_before,
            "identities": identities,
            "participants": participants,
            "notes": notes,
        });
        let merge_id = sqlx::query_scalar!(
            r#"insert into contact_merges (user_id, winner_id, loser_id, reason, snapshot)
               values ($1, $2, $3, $4, $5) returning id"#,
            self.user.0,
            winner,
            loser,
            reason,
            snapshot,
        )
        .fetch_one(&mut *tx)
        .await?;
        refresh_as_of(&mut tx, self.user, &[winner, loser], Utc::now()).await?;
        let merged = Event::ContactMerged(ContactMergedPayload {
            merge_id,
            winner_id: winner,
            loser_id: loser,
        });
        self.events().record(&mut tx, &merged).await?;
        tx.commit().await?;
        Ok(merge_id)
    }

    /// Undoes a merge exactly: moved rows go back, the winner's fields are restored and
    /// the loser is listed again. Only the latest live merge into a contact can be undone.
    pub async fn unmerge(self, merge: Uuid) -> Result<(), DomainError> {
        let mut tx = self.pool.begin().await?;
        let record = sqlx::query!(
            r#"select winner_id, loser_id, snapshot from contact_merges
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
        let (winner, loser, snapshot) = (record.winner_id, record.loser_id, record.snapshot);
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
        refresh_as_of(&mut tx, self.user, &[winner, loser], Utc::now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Merges into or out of `contact`, newest first.
    pub async fn merge_log(self, contact: Uuid) -> Result<Vec<MergeRecord>, DomainError> {
        Ok(sqlx::query_as!(
            MergeRecord,
            r#"select m.id, m.winner_id, w.display_name as winner_name, m.loser_id,
                      l.display_name as loser_name, m.reason, m.merged_at, m.unmerged_at
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
