//! Interactions in Postgres: log, edit, archive, delete, each bound to the acting user
//! and written in one transaction with its timeline activity and calendar event.

use api::Direction;
use api::interactions::{
    EventStatus, EventSummary, Importance, InteractionDraft, InteractionKind, InteractionRow,
    Medium, Sentiment,
};
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::LoggedOn;
use super::calendar::SyncOutcome;
use crate::DomainError;
use crate::db::scopes::InteractionsScope;
use crate::zone::UserZone;

/// A stored interaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interaction {
    pub id: Uuid,
    pub contact_id: Option<Uuid>,
    pub company_id: Option<Uuid>,
    pub activity_id: Option<Uuid>,
    pub draft: InteractionDraft,
    pub archived_at: Option<DateTime<Utc>>,
    pub calendar_synced_at: Option<DateTime<Utc>>,
    /// Its calendar event and the event's status, when it has one.
    pub event: Option<EventSummary>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Interaction {
    /// As the contact page lists it, its time on the user's clock.
    pub fn row(self, zone: UserZone) -> InteractionRow {
        InteractionRow {
            id: self.id,
            contact_id: self.contact_id,
            company_id: self.company_id,
            local: self.draft.occurred_at.map(|at| zone.local(at)),
            draft: self.draft,
            archived: self.archived_at.is_some(),
            event: self.event,
            created_at: self.created_at,
        }
    }
}

impl InteractionsScope<'_> {
    /// Logs an interaction on a contact (its company, if any, is linked too) or on a
    /// company. `NotFound` for a contact or company that is not this user's.
    pub async fn create(
        self,
        on: LoggedOn,
        draft: &InteractionDraft,
    ) -> Result<Interaction, DomainError> {
        let mut tx = self.pool.begin().await?;
        let (contact, company) = match on {
            LoggedOn::Contact(contact) => {
                let company = sqlx::query_scalar!(
                    "select company_id from contacts where user_id = $1 and id = $2",
                    self.user.0,
                    contact,
                )
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(DomainError::NotFound("contact"))?;
                (Some(contact), company)
            }
            LoggedOn::Company(company) => {
                let exists = sqlx::query_scalar!(
                    r#"select exists(select 1 from companies where user_id = $1 and id = $2) as "exists!""#,
                    self.user.0,
                    company,
                )
                .fetch_one(&mut *tx)
                .await?;
                if !exists {
                    return Err(DomainError::NotFound("company"));
                }
                (None, Some(company))
            }
        };
        let id = sqlx::query_scalar!(
            r#"insert into interactions (user_id, contact_id, company_id, kind, subject, occurred_at,
                 duration_minutes, location, description, direction, medium, outcome, sentiment,
                 importance, private_notes)
               values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
               returning id"#,
            self.user.0,
            contact,
            company,
            draft.kind.as_str(),
            draft.subject,
            draft.occurred_at,
            draft.duration_minutes.map(|d| d as i32),
            draft.location,
            draft.description,
            draft.direction.as_str(),
            draft.medium.as_str(),
            draft.outcome,
            draft.sentiment.map(Sentiment::as_str),
            draft.importance.map(|i| i16::from(i.get())),
            draft.private_notes,
        )
        .fetch_one(&mut *tx)
        .await?;
        self.after_change(&mut tx, id).await?;
        tx.commit().await?;
        self.get(id).await
    }

    /// Replaces an interaction's fields. An edit that changes nothing writes nothing
    /// (its calendar event is not synced again).
    pub async fn update(
        self,
        id: Uuid,
        draft: &InteractionDraft,
    ) -> Result<Interaction, DomainError> {
        let mut tx = self.pool.begin().await?;
        let changed = sqlx::query_scalar!(
            r#"update interactions set kind = $3, subject = $4, occurred_at = $5,
                 duration_minutes = $6, location = $7, description = $8, direction = $9,
                 medium = $10, outcome = $11, sentiment = $12, importance = $13, private_notes = $14
               where user_id = $1 and id = $2
                 and (kind, subject, occurred_at, duration_minutes, location, description, direction,
                      medium, outcome, sentiment, importance, private_notes)
                     is distinct from
                     ($3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
               returning id"#,
            self.user.0,
            id,
            draft.kind.as_str(),
            draft.subject,
            draft.occurred_at,
            draft.duration_minutes.map(|d| d as i32),
            draft.location,
            draft.description,
            draft.direction.as_str(),
            draft.medium.as_str(),
            draft.outcome,
            draft.sentiment.map(Sentiment::as_str),
            draft.importance.map(|i| i16::from(i.get())),
            draft.private_notes,
        )
        .fetch_optional(&mut *tx)
        .await?;
        if changed.is_some() {
            self.after_change(&mut tx, id).await?;
            tx.commit().await?;
        } else {
            drop(tx);
        }
        self.get(id).await
    }

    /// Archives (or restores) an interaction: archived, it leaves the timeline and its
    /// calendar event is cancelled (never deleted).
    pub async fn set_archived(self, id: Uuid, archived: bool) -> Result<Interaction, DomainError> {
        let mut tx = self.pool.begin().await?;
        let changed = sqlx::query_scalar!(
            r#"update interactions set archived_at = case when $3 then now() end
               where user_id = $1 and id = $2 and (archived_at is not null) <> $3
               returning id"#,
            self.user.0,
            id,
            archived,
        )
        .fetch_optional(&mut *tx)
        .await?;
        if changed.is_some() {
            self.after_change(&mut tx, id).await?;
            tx.commit().await?;
        } else {
            drop(tx);
        }
        self.get(id).await
    }

    /// Deletes an interaction with its activity and its calendar event.
    pub async fn delete(self, id: Uuid) -> Result<(), DomainError> {
        let mut tx = self.pool.begin().await?;
        let exists = sqlx::query_scalar!(
            "select id from interactions where user_id = $1 and id = $2 for update",
            self.user.0,
            id,
        )
        .fetch_optional(&mut *tx)
        .await?;
        if exists.is_none() {
            return Err(DomainError::NotFound("interaction"));
        }
        // The event first: its deletion is logged and its written-back copy deleted.
        if let Some(copy) = self.delete_event(&mut tx, id).await? {
            crate::calendar::write_back::queue(&mut tx, self.user, id, Some(copy)).await?;
        }
        let row = sqlx::query!(
            "delete from interactions where user_id = $1 and id = $2 returning contact_id, activity_id",
            self.user.0,
            id,
        )
        .fetch_one(&mut *tx)
        .await?;
        if let Some(activity) = row.activity_id {
            sqlx::query!(
                "delete from activities where user_id = $1 and id = $2",
                self.user.0,
                activity,
            )
            .execute(&mut *tx)
            .await?;
        }
        self.refresh_stats(&mut tx, row.contact_id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Brings the interaction's calendar event up to date, unless it already is
    /// (`calendar_synced_at` not before `updated_at`).
    pub async fn sync_calendar(self, id: Uuid) -> Result<SyncOutcome, DomainError> {
        let mut tx = self.pool.begin().await?;
        let outcome = self.sync_event(&mut tx, id).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// The activity, the calendar event and the stats follow the interaction.
    async fn after_change(self, tx: &mut PgConnection, id: Uuid) -> Result<(), DomainError> {
        let contact = self.write_activity(tx, id).await?;
        if let SyncOutcome::Synced { event: Some(_), .. } = self.sync_event(tx, id).await? {
            crate::calendar::write_back::queue(tx, self.user, id, None).await?;
        }
        self.refresh_stats(tx, contact).await
    }

    async fn refresh_stats(
        self,
        tx: &mut PgConnection,
        contact: Option<Uuid>,
    ) -> Result<(), DomainError> {
        if let Some(contact) = contact {
            crate::contacts::stats::refresh_as_of(tx, self.user, &[contact], Utc::now()).await?;
            let touched =
                crate::events::Event::ContactsTouched(crate::events::ContactsTouchedPayload {
                    contacts: vec![contact],
                });
            self.events().record(tx, &touched).await?;
        }
        Ok(())
    }

    pub async fn get(self, id: Uuid) -> Result<Interaction, DomainError> {
        self.select(None, None, Some(id), true)
            .await?
            .into_iter()
            .next()
            .ok_or(DomainError::NotFound("interaction"))
    }

    /// A contact's interactions, newest first (archived ones only with `archived`).
    /// Someone else's contact has none.
    pub async fn for_contact(
        self,
        contact: Uuid,
        archived: bool,
    ) -> Result<Vec<Interaction>, DomainError> {
        self.select(Some(contact), None, None, archived).await
    }

    /// A company's interactions (its contacts' included), newest first.
    pub async fn for_company(
        self,
        company: Uuid,
        archived: bool,
    ) -> Result<Vec<Interaction>, DomainError> {
        self.select(None, Some(company), None, archived).await
    }

    async fn select(
        self,
        contact: Option<Uuid>,
        company: Option<Uuid>,
        id: Option<Uuid>,
        archived: bool,
    ) -> Result<Vec<Interaction>, DomainError> {
        let rows = sqlx::query!(
            r#"select i.id, i.contact_id, i.company_id, i.activity_id,
                      i.kind as "kind: InteractionKind", i.subject, i.occurred_at, i.duration_minutes,
                      i.location, i.description, i.direction as "direction: Direction",
                      i.medium as "medium: Medium", i.outcome, i.sentiment as "sentiment: Sentiment",
                      i.importance, i.private_notes, i.archived_at, i.calendar_synced_at,
                      i.created_at, i.updated_at,
                      e.id as "event_id?", e.status as "event_status?: EventStatus",
                      f.error as "failure?", f.next_retry_at as "next_retry_at?"
               from interactions i
               left join calendar_events e
                 on e.user_id = i.user_id and e.related_table = 'interactions' and e.related_id = i.id
               left join calendar_sync_failures f
                 on f.user_id = i.user_id and f.interaction_id = i.id and f.resolved_at is null
               where i.user_id = $1
                 and ($2::uuid is null or i.contact_id = $2)
                 and ($3::uuid is null or i.company_id = $3)
                 and ($4::uuid is null or i.id = $4)
                 and ($5 or i.archived_at is null)
               order by i.occurred_at desc nulls last, i.created_at desc, i.id desc
               limit 500"#,
            self.user.0,
            contact,
            company,
            id,
            archived,
        )
        .fetch_all(self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| Interaction {
                id: r.id,
                contact_id: r.contact_id,
                company_id: r.company_id,
                activity_id: r.activity_id,
                draft: InteractionDraft {
                    kind: r.kind,
                    subject: r.subject,
                    occurred_at: r.occurred_at,
                    duration_minutes: r.duration_minutes.and_then(|d| u32::try_from(d).ok()),
                    location: r.location,
                    description: r.description,
                    direction: r.direction,
                    medium: r.medium,
                    outcome: r.outcome,
                    sentiment: r.sentiment,
                    importance: r
                        .importance
                        .and_then(|i| u8::try_from(i).ok())
                        .and_then(|i| Importance::new(i).ok()),
                    private_notes: r.private_notes,
                },
                archived_at: r.archived_at,
                calendar_synced_at: r.calendar_synced_at,
                event: match (r.event_id, r.event_status) {
                    (Some(id), Some(status)) => Some(EventSummary {
                        id,
                        status,
                        write_back_error: r.failure,
                        next_retry_at: r.next_retry_at,
                    }),
                    _ => None,
                },
                created_at: r.created_at,
                updated_at: r.updated_at,
            })
            .collect())
    }
}
