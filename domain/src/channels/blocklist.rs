//! The user's blocklist: senders whose messages are dropped at ingest. Entries are typed
//! as the user writes them (`someone@example.com`, `*@example.com`, `+14155552671`,
//! `name:newsletter`).

use uuid::Uuid;

use super::PhoneNumber;
use crate::{DomainError, EmailAddress};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockEntry {
    Email(EmailAddress),
    /// Every address at exactly this domain.
    Domain(String),
    Phone(PhoneNumber),
    /// A word in a sender's display name or local part (`name:newsletter`): bulk
    /// senders whose address varies.
    Name(String),
}

impl BlockEntry {
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let input = input.trim();
        if let Some(pattern) = input.strip_prefix("name:") {
            let pattern = pattern.trim().to_lowercase();
            if pattern.is_empty() || pattern.contains(char::is_whitespace) {
                return Err(DomainError::invalid(
                    "blocklist entry",
                    "name: needs one word, like name:newsletter",
                ));
            }
            return Ok(BlockEntry::Name(pattern));
        }
        if let Some(domain) = input.strip_prefix("*@") {
            let address = EmailAddress::parse(&format!("any@{domain}")).map_err(|_| {
                DomainError::invalid("blocklist entry", "*@ needs a domain, like *@example.com")
            })?;
            return Ok(BlockEntry::Domain(address.domain().to_owned()));
        }
        if input.contains('@') {
            return EmailAddress::parse(input)
                .map(BlockEntry::Email)
                .map_err(|_| DomainError::invalid("blocklist entry", "not a valid email address"));
        }
        PhoneNumber::parse(input)
            .map(BlockEntry::Phone)
            .map_err(|_| {
                DomainError::invalid(
                    "blocklist entry",
                    "write an email, *@domain, name:word or a phone number in international format",
                )
            })
    }

    /// Rebuilds an entry from its stored `(kind, value)`.
    pub fn from_stored(kind: &str, value: &str) -> Option<Self> {
        match kind {
            "domain" => Some(BlockEntry::Domain(value.to_owned())),
            "name" => Some(BlockEntry::Name(value.to_owned())),
            _ => BlockEntry::parse(value).ok(),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            BlockEntry::Email(_) => "email",
            BlockEntry::Domain(_) => "domain",
            BlockEntry::Phone(_) => "phone",
            BlockEntry::Name(_) => "name",
        }
    }

    /// The stored value: the address, the bare domain, or the E.164 number.
    pub fn value(&self) -> &str {
        match self {
            BlockEntry::Email(e) => e.as_str(),
            BlockEntry::Domain(d) => d,
            BlockEntry::Phone(p) => p.as_str(),
            BlockEntry::Name(n) => n,
        }
    }

    /// How the user wrote it, for display.
    pub fn display(&self) -> String {
        match self {
            BlockEntry::Domain(d) => format!("*@{d}"),
            BlockEntry::Name(n) => format!("name:{n}"),
            other => other.value().to_owned(),
        }
    }
}

/// A stored blocklist entry with how many messages it dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlocklistEntry {
    pub id: Uuid,
    pub entry: BlockEntry,
    pub hits: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_parse_by_shape() {
        assert_eq!(
            BlockEntry::parse(" Spam@Example.com ").unwrap().kind(),
            "email"
        );
        let domain = BlockEntry::parse("*@News.Example.com").unwrap();
        assert_eq!(
            (domain.kind(), domain.value()),
            ("domain", "news.example.com")
        );
        assert_eq!(domain.display(), "*@news.example.com");
        let phone = BlockEntry::parse("+1 415 555 2671").unwrap();
        assert_eq!((phone.kind(), phone.value()), ("phone", "+14155552671"));
        assert!(BlockEntry::parse("*@").is_err());
        assert!(BlockEntry::parse("nobody").is_err());
        assert!(BlockEntry::parse("a@b").is_err());
        let name = BlockEntry::parse("name: NewsLetter").unwrap();
        assert_eq!((name.kind(), name.value()), ("name", "newsletter"));
        assert_eq!(name.display(), "name:newsletter");
        assert!(BlockEntry::parse("name:").is_err());
        assert!(BlockEntry::parse("name:two words").is_err());
    }
}
