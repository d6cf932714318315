//! Phone numbers as webhooks deliver them (`+14155552671`, `whatsapp:+44 7700 900123`,
//! `14155552671`) normalised to E.164, the form `activity_participants` and
//! `contact_identities` store.

use crate::DomainError;
use crate::extract::phone::{RegionHints, parse_phone};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Providers send international numbers, sometimes without the `+` (WhatsApp ids)
    /// and sometimes with a scheme (`whatsapp:`, `tel:`). A number the numbering plan
    /// knows is formatted by it; otherwise any syntactically valid E.164 is kept, since
    /// the provider, not a person, wrote it.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let invalid = || DomainError::invalid("phone", format!("{input:?} is not a phone number"));
        let without_scheme = ["whatsapp:", "tel:", "sms:"]
            .iter()
            .find_map(|scheme| input.trim().strip_prefix(scheme))
            .unwrap_or(input.trim());
        let compact: String = without_scheme
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
            .collect();
        let international = match compact.strip_prefix("00") {
            Some(rest) => format!("+{rest}"),
            None if compact.starts_with('+') => compact,
            None => format!("+{compact}"),
        };
        if let Some(known) = parse_phone(&international, &RegionHints::default()) {
            return Ok(Self(known.as_str().to_owned()));
        }
        let digits = &international[1..];
        let plausible = (7..=15).contains(&digits.len())
            && digits.chars().all(|c| c.is_ascii_digit())
            && !digits.starts_with('0');
        if plausible {
            Ok(Self(international))
        } else {
            Err(invalid())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e164(input: &str) -> Option<String> {
        PhoneNumber::parse(input).ok().map(|p| p.0)
    }

    #[test]
    fn provider_formats_become_e164() {
        assert_eq!(e164("+14155552671").as_deref(), Some("+14155552671"));
        assert_eq!(
            e164("whatsapp:+14155552671").as_deref(),
            Some("+14155552671")
        );
        assert_eq!(e164("+44 7700 900123").as_deref(), Some("+447700900123"));
        assert_eq!(
            e164("0044 (7700) 900-123").as_deref(),
            Some("+447700900123")
        );
        assert_eq!(e164("14155552671").as_deref(), Some("+14155552671"));
        assert_eq!(e164("+123456789").as_deref(), Some("+123456789"));
    }

    #[test]
    fn non_numbers_are_refused() {
        for bad in [
            "",
            "+",
            "client:alice",
            "+0123456789",
            "12345",
            "+1234567890123456",
        ] {
            assert_eq!(e164(bad), None, "{bad:?}");
        }
    }
}
