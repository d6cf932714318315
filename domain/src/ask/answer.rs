//! What an engine answers: text with inline links (`[label](/contacts/{id})`), the
//! citations behind them, and a typed value that evaluation compares with expected
//! answers.

pub use api::links::links_in;
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::tools::{CompanyRow, ContactHit, MessageRef};

/// One person as answers show them: the contacts that carry their name (one per
/// address until the user merges them), their name and addresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    pub contact_ids: Vec<Uuid>,
    pub name: Option<String>,
    pub emails: Vec<String>,
}

impl Person {
    pub fn label(&self) -> String {
        self.name
            .clone()
            .or_else(|| self.emails.first().cloned())
            .unwrap_or_else(|| "(no name)".into())
    }

    /// The contact page of the person's main contact.
    pub fn href(&self) -> String {
        contact_href(self.contact_ids[0])
    }

    /// `[Name](/contacts/{id})`
    pub fn link(&self) -> String {
        link(&self.label(), &self.href())
    }
}

pub fn contact_href(id: Uuid) -> String {
    format!("/contacts/{id}")
}

/// A message's place: its contact's page, scrolled to the activity.
pub fn message_href(message: &MessageRef) -> Option<String> {
    message
        .contact_id
        .map(|c| format!("/contacts/{c}#activity-{}", message.activity_id))
}

/// A Markdown-style link; brackets in the label are dropped so the link stays one link.
pub fn link(label: &str, href: &str) -> String {
    let label: String = label.chars().filter(|c| !matches!(c, '[' | ']')).collect();
    format!("[{label}]({href})")
}

/// Folds contacts into people by name (case- and accent-insensitive), keeping the
/// order in which each person first appears. Contacts without a name stay alone.
pub fn people_of(contacts: &[ContactHit]) -> Vec<Person> {
    let mut people: Vec<(Option<String>, Person)> = Vec::new();
    for c in contacts {
        let key = c.name.as_deref().map(name_key);
        match people.iter_mut().find(|(k, _)| k.is_some() && *k == key) {
            Some((_, person)) => {
                person.contact_ids.push(c.id);
                person.emails.extend(c.emails.iter().cloned());
            }
            None => people.push((
                key,
                Person {
                    contact_ids: vec![c.id],
                    name: c.name.clone(),
                    emails: c.emails.clone(),
                },
            )),
        }
    }
    people.into_iter().map(|(_, p)| p).collect()
}

/// Lowercase, accents removed, single spaces: "Anaïs  Moreau" and "anais moreau" meet,
/// and so do "Søren" and "soren".
pub fn name_key(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let folded: String = name
        .to_lowercase()
        .nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        // Letters NFD does not split into a base and a mark, spelt as people type them.
        .flat_map(|c| {
            let ascii = match c {
                'ø' => "o",
                'ł' => "l",
                'ß' => "ss",
                'æ' => "ae",
                'œ' => "oe",
                'đ' => "d",
                'ı' => "i",
                _ => return vec![c],
            };
            ascii.chars().collect()
        })
        .collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The comparable part of an answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum AnswerValue {
    People(Vec<Person>),
    Number(i64),
    Date(DateTime<Utc>),
    /// Field values: phone numbers, addresses, a title, a company.
    Facts(Vec<String>),
    Messages(Vec<MessageRef>),
    Companies(Vec<CompanyRow>),
    /// Refusals and "nothing found".
    Nothing,
}

/// An engine's answer to one question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    /// Plain text with `[label](/path)` links to every contact or message mentioned.
    pub text: String,
    pub value: AnswerValue,
    /// True when the engine did not answer: not understood, ambiguous or unknown name.
    pub refused: bool,
    /// Tools called, in order.
    pub tools: Vec<String>,
}

impl Answer {
    pub fn answered(text: String, value: AnswerValue, tools: Vec<String>) -> Self {
        Self {
            text,
            value,
            refused: false,
            tools,
        }
    }

    pub fn refusal(text: String, tools: Vec<String>) -> Self {
        Self {
            text,
            value: AnswerValue::Nothing,
            refused: true,
            tools,
        }
    }

    /// The internal links in the text, in order: what the UI lists as citations.
    pub fn citations(&self) -> Vec<(String, String)> {
        links_in(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(name: Option<&str>, email: &str) -> ContactHit {
        ContactHit::bare(name, email)
    }

    #[test]
    fn same_name_contacts_are_one_person() {
        let hits = [
            hit(Some("Anaïs Moreau"), "a@x.fr"),
            hit(Some("Sam Lee"), "s@y.com"),
            hit(Some("anais  moreau"), "anais@gmail.com"),
            hit(None, "n1@z.com"),
            hit(None, "n2@z.com"),
        ];
        let people = people_of(&hits);
        assert_eq!(people.len(), 4);
        assert_eq!(people[0].emails, ["a@x.fr", "anais@gmail.com"]);
        assert_eq!(people[0].contact_ids.len(), 2);
        assert_eq!(people[2].label(), "n1@z.com");
    }

    #[test]
    fn link_labels_lose_their_brackets() {
        assert_eq!(link("A [b]", "/x"), "[A b](/x)");
    }
}
