//! Notes in Postgres: list, create, edit, delete, each bound to the acting user and
//! each change announced with a `notes.changed` event in the same transaction (a new
//! note is also recorded as `note.created`).

use api::{AuthorKind, Channel};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Author, NoteBody};
use crate::DomainError;
use crate::db::scopes::NotesScope;
use crate::events::{ContactPayload, Event, NoteCreatedPayload};

/// What a new note needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNote {
    pub contact: Uuid,
    pub body: NoteBody,
    pub author: Author,
    /// The activity the note came from, if any; it must be the same user's.
    pub source_activity: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub id: Uuid,
    pub contact_id: Uuid,
    pub author: Author,
    pub body: String,
    /// `None` when the note has no source, or its activity was deleted since.
    pub source: Option<NoteSource>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Note {
    /// Whether the user may change the text (see the module docs for why agent notes
    /// are not editable).
    pub fn editable(&self) -> bool {
        matches!(self.author, Author::User(_))
    }
}

/// The activity a note came from, enough to show and link it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSource {
    pub id: Uuid,
    pub channel: Channel,
    pub subject: Option<String>,
    pub snippet: Option<String>,
    pub occurred_at: DateTime<Utc>,
}

impl NotesScope<'_> {
    /// The contact's notes, newest first. Someone else's contact has none.
    pub async fn for_contact(self, contact: Uuid) -> Result<Vec<Note>, DomainError> {
        self.select_notes(Some(contact), None).await
    }

    pub async fn get(self, note: Uuid) -> Result<Note, DomainError> {
        self.select_notes(None, Some(note))
            .await?
            .into_iter()
            .next()
            .ok_or(DomainError::NotFound("note"))
    }

    pub async fn create(self, new: &NewNote) -> Result<Note, DomainError> {
        let mut tx = self.pool.begin().await?;
        if let Some(activity) = new.source_activity {
            let exists = sqlx::query_scalar!(
                r#"select exists(select 1 from activities where user_id = $1 and id = $2) as "exists!""#,
                self.user.0,
                activity,
            )
            .fetch_one(&mut *tx)
            .await?;
            if !exists {
                return Err(DomainError::invalid(
                    "source_activity_id",
                    "no such activity",
                ));
            }
        }
        let id = sqlx::query_scalar!(
            r#"insert into notes (user_id, contact_id, author_kind, author_name, body, source_activity_id)
               select $1, c.id, $3, $4, $5, $6 from contacts c where c.user_id = $1 and c.id = $2
               returning id"#,
            self.user.0,
            new.contact,
            new.author.kind().as_str(),
            new.author.name(),
            new.body.as_str(),
            new.source_activity,
        )
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound("contact"))?;
        let created = Event::NoteCreated(NoteCreatedPayload {
            note_id: id,
            contact_id: new.contact,
            author: new.author.kind(),
        });
        self.events().record(&mut tx, &created).await?;
        self.announce(&mut tx, new.contact).await?;
        tx.commit().await?;
        self.get(id).await
    }

    /// Replaces a user note's text. Agent notes are refused (422): delete them instead.
    pub async fn edit(self, note: Uuid, body: &NoteBody) -> Result<Note, DomainError> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query!(
            r#"select contact_id, author_kind as "author_kind: AuthorKind" from notes
               where user_id = $1 and id = $2 for update"#,
            self.user.0,
            note,
        )
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound("note"))?;
        if row.author_kind != AuthorKind::User {
            return Err(DomainError::invalid(
                "note",
                "a note written by an agent cannot be edited; delete it instead",
            ));
        }
        sqlx::query!(
            "update notes set body = $3 where user_id = $1 and id = $2",
            self.user.0,
            note,
            body.as_str(),
        )
        .execute(&mut *tx)
        .await?;
        self.announce(&mut tx, row.contact_id).await?;
        tx.commit().await?;
        self.get(note).await
    }

    /// Deletes a note, the user's or an agent's.
    pub async fn delete(self, note: Uuid) -> Result<(), DomainError> {
        let mut tx = self.pool.begin().await?;
        let contact = sqlx::query_scalar!(
            "delete from notes where user_id = $1 and id = $2 returning contact_id",
            self.user.0,
            note,
        )
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound("note"))?;
        self.announce(&mut tx, contact).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn announce(
        self,
        tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
        contact: Uuid,
    ) -> Result<(), DomainError> {
        let event = Event::NotesChanged(ContactPayload {
            contact_id: contact,
        });
        self.events().record(tx, &event).await?;
        Ok(())
    }

    /// One query for both reads, so a note looks the same however it was found.
    async fn select_notes(
        self,
        contact: Option<Uuid>,
        note: Option<Uuid>,
    ) -> Result<Vec<Note>, DomainError> {
        let rows = sqlx::query!(
            r#"select n.id, n.contact_id, n.author_kind as "author_kind: AuthorKind", n.author_name, n.body,
                      n.created_at, n.updated_at,
                      a.id as "source_id?", a.channel as "source_channel?: Channel",
                      a.subject as "source_subject?", a.snippet as "source_snippet?",
                      a.occurred_at as "source_occurred_at?"
               from notes n
               left join activities a on a.user_id = n.user_id and a.id = n.source_activity_id
               where n.user_id = $1
                 and ($2::uuid is null or n.contact_id = $2)
                 and ($3::uuid is null or n.id = $3)
               order by n.created_at desc, n.id desc"#,
            self.user.0,
            contact,
            note,
        )
        .fetch_all(self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| Note {
                id: r.id,
                contact_id: r.contact_id,
                author: Author::stored(r.author_kind, r.author_name),
                body: r.body,
                source: match (r.source_id, r.source_channel, r.source_occurred_at) {
                    (Some(id), Some(channel), Some(occurred_at)) => Some(NoteSource {
                        id,
                        channel,
                        subject: r.source_subject,
                        snippet: r.source_snippet,
                        occurred_at,
                    }),
                    _ => None,
                },
                created_at: r.created_at,
                updated_at: r.updated_at,
            })
            .collect())
    }
}

impl From<Note> for api::notes::NoteRow {
    fn from(note: Note) -> Self {
        Self {
            id: note.id,
            editable: note.editable(),
            author_kind: note.author.kind(),
            author_name: note.author.name().to_owned(),
            edited: note.updated_at > note.created_at,
            body: note.body,
            source: note.source.map(|s| api::notes::NoteSourceRow {
                id: s.id,
                channel: s.channel,
                label: crate::activities::headline(s.subject.as_deref(), s.snippet.as_deref()),
                occurred_at: s.occurred_at,
            }),
            created_at: note.created_at,
        }
    }
}
