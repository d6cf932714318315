//! Notes: the permanent outcomes kept on a contact, written by the user on the contact
//! page or by an AI agent through the API (`/api/v1`, with a personal API token).
//!
//! Edit rules: a user note can be edited and deleted by its user. An agent note can be
//! deleted by the user but not edited: its text is what the agent wrote under its name,
//! and editing it in place would put the user's words under the agent's name. Agents
//! create and read notes; they neither edit nor delete.
//!
//! Every change publishes a `notes.changed` event with the contact id, so open contact
//! pages re-read their notes.

mod contact_ref;
mod store;

pub use contact_ref::{ActivityStateFilter, ContactActivity, ContactRef};
pub use store::{NewNote, Note, NoteSource};

use api::AuthorKind;

use crate::DomainError;

/// The longest note body accepted, in characters.
pub const MAX_BODY_CHARS: usize = 20_000;
/// The longest agent author name accepted, in characters.
pub const MAX_AUTHOR_CHARS: usize = 80;

/// A note's text: trimmed, not empty, at most [`MAX_BODY_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteBody(String);

impl NoteBody {
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let body = input.trim();
        if body.is_empty() {
            return Err(DomainError::invalid("body", "must not be empty"));
        }
        let chars = body.chars().count();
        if chars > MAX_BODY_CHARS {
            return Err(DomainError::invalid(
                "body",
                format!("must be at most {MAX_BODY_CHARS} characters (it has {chars})"),
            ));
        }
        Ok(Self(body.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who wrote a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Author {
    /// The signed-in user, under their display name.
    User(String),
    /// An agent through the API, under its name (by default its token's name).
    Agent(String),
}

impl Author {
    /// An agent's name as given in an API request: trimmed, 1 to [`MAX_AUTHOR_CHARS`]
    /// characters, no control characters.
    pub fn agent(name: &str) -> Result<Self, DomainError> {
        let name = name.trim();
        let chars = name.chars().count();
        if chars == 0 || chars > MAX_AUTHOR_CHARS || name.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                "author",
                format!("must be 1 to {MAX_AUTHOR_CHARS} characters without control characters"),
            ));
        }
        Ok(Self::Agent(name.to_owned()))
    }

    /// The user as author; an empty name (no Google profile name) reads "You".
    pub fn user(name: &str) -> Self {
        let name = name.trim();
        Self::User(if name.is_empty() { "You" } else { name }.to_owned())
    }

    pub fn kind(&self) -> AuthorKind {
        match self {
            Self::User(_) => AuthorKind::User,
            Self::Agent(_) => AuthorKind::Agent,
        }
    }

    /// The author of a stored note.
    pub fn stored(kind: AuthorKind, name: String) -> Self {
        match kind {
            AuthorKind::User => Self::User(name),
            AuthorKind::Agent => Self::Agent(name),
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Self::User(name) | Self::Agent(name) => name,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(error: DomainError) -> &'static str {
        match error {
            DomainError::Invalid { field, .. } => field,
            other => panic!("not a validation error: {other}"),
        }
    }

    #[test]
    fn bodies_are_trimmed_and_must_have_text() {
        assert_eq!(
            NoteBody::parse("  call back  ").unwrap().as_str(),
            "call back"
        );
        assert_eq!(field_of(NoteBody::parse("").unwrap_err()), "body");
        assert_eq!(field_of(NoteBody::parse(" \n\t ").unwrap_err()), "body");
    }

    #[test]
    fn bodies_are_bounded_in_characters_not_bytes() {
        assert!(NoteBody::parse(&"é".repeat(MAX_BODY_CHARS)).is_ok());
        let error = NoteBody::parse(&"x".repeat(MAX_BODY_CHARS + 1)).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("at most 20000 characters (it has 20001)"),
            "{error}"
        );
    }

    #[test]
    fn agent_names_are_checked_and_user_names_default() {
        assert_eq!(
            Author::agent(" summariser ").unwrap(),
            Author::Agent("summariser".into())
        );
        assert_eq!(field_of(Author::agent("").unwrap_err()), "author");
        assert_eq!(
            field_of(Author::agent(&"a".repeat(81)).unwrap_err()),
            "author"
        );
        assert_eq!(field_of(Author::agent("a\u{7}b").unwrap_err()), "author");
        assert_eq!(Author::user("  ").name(), "You");
        assert_eq!(Author::user("Alex").kind(), AuthorKind::User);
    }
}
