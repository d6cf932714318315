//! The contact page's relationship panel ([`api::contacts::RelationshipView`]): the
//! template summary, next actions and draft for a contact, and what a model wrote.

use api::contacts::{ModelWritten, RelationshipView};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Person;
use super::relationship::{next_actions, summary_text, template_draft};
use super::relationship_model::{self, ModelRelationship};
use super::tools::Limit;
use crate::DomainError;
use crate::db::scopes::AskScope;

/// Recent messages the panel is written from.
const RECENT_MESSAGES: i64 = 5;

impl AskScope<'_> {
    /// The template panel for `contact`, written as `sender`, and the facts a model
    /// would be given; `None` for a contact that is not found (a merged one included).
    /// `model` is the configured model's name, offered to rewrite the panel.
    pub async fn relationship_panel(
        self,
        contact: Uuid,
        sender: &str,
        model: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Option<(RelationshipView, String)>, DomainError> {
        let details = match self.contact_details(contact).await {
            Ok(d) => d,
            Err(DomainError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let recent = self
            .activity_timeline(
                &[contact],
                None,
                None,
                false,
                Limit::parse(RECENT_MESSAGES)?,
            )
            .await?;
        let person = Person {
            contact_ids: vec![contact],
            name: details.contact.name.clone(),
            emails: details.contact.emails.clone(),
        };
        let draft = template_draft(&details, &recent, sender, now);
        let summary = summary_text(&person, &details, &recent, now);
        // The panel lists the next actions itself; the summary's closing "Next: …" would
        // repeat them.
        let summary = summary
            .split_once(" Next: ")
            .map_or(summary.clone(), |(before, _)| before.to_owned());
        let facts = relationship_model::facts(sender, &summary, &recent);
        let view = RelationshipView {
            summary,
            actions: next_actions(&details, now),
            to: draft.to,
            subject: draft.subject,
            body: draft.body,
            contact,
            model,
        };
        Ok(Some((view, facts)))
    }
}

impl From<ModelRelationship> for ModelWritten {
    fn from(written: ModelRelationship) -> Self {
        Self {
            summary: written.summary,
            body: written.draft_body,
            written_by: format!("Written by model {}", written.model),
        }
    }
}
