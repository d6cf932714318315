use std::fmt;

use crate::DomainError;

/// An email address, trimmed and lowercased. Built only by [`EmailAddress::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Accepts `local@domain.tld` (no display name, no whitespace), as found in headers
    /// once the display name is split off. Case is folded: Gmail and practically every
    /// provider treat addresses case-insensitively.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let candidate = input.trim().to_lowercase();
        let invalid = |message: &str| DomainError::invalid("email", message.to_string());
        if candidate.is_empty() {
            return Err(invalid("is empty"));
        }
        if candidate.len() > 254 {
            return Err(invalid("is longer than 254 characters"));
        }
        if candidate
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(invalid("contains whitespace"));
        }
        let Some((local, domain)) = candidate.rsplit_once('@') else {
            return Err(invalid("has no @"));
        };
        if local.is_empty() || local.contains('@') || local.len() > 64 {
            return Err(invalid("has an invalid part before @"));
        }
        let labels_ok = domain.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
        if !domain.contains('.') || !labels_ok {
            return Err(invalid("has an invalid domain"));
        }
        Ok(Self(candidate))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or_default()
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for EmailAddress {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_case_and_whitespace() {
        let email = EmailAddress::parse("  Dana.Scully@FBI.gov ").unwrap();
        assert_eq!(email.as_str(), "dana.scully@fbi.gov");
        assert_eq!(email.domain(), "fbi.gov");
    }

    #[test]
    fn accepts_plus_addressing_and_subdomains() {
        assert!(EmailAddress::parse("sam+crm@mail.acme.co.uk").is_ok());
        assert!(EmailAddress::parse("o'brien@example.ie").is_ok());
    }

    #[test]
    fn rejects_malformed_addresses() {
        for bad in [
            "",
            "plainaddress",
            "@no-local.com",
            "no-domain@",
            "two@@at.com",
            "sp ace@x.com",
            "a@nodot",
            "a@-bad.com",
            "a@bad-.com",
            "a@dot..com",
        ] {
            assert!(
                EmailAddress::parse(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
    }

    #[test]
    fn rejects_overlong_addresses() {
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(EmailAddress::parse(&long).is_err());
    }
}
