//! The opaque cursor of an inbox page: the last row's `(occurred_at, id)`, so the next
//! page starts strictly after it whatever arrived or left in between.

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::DomainError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub occurred_at: DateTime<Utc>,
    pub id: Uuid,
}

impl fmt::Display for Cursor {
    /// URL-safe base64 of `micros:id` (Postgres keeps microseconds, so the round trip is
    /// exact).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plain = format!("{}:{}", self.occurred_at.timestamp_micros(), self.id);
        f.write_str(&URL_SAFE_NO_PAD.encode(plain))
    }
}

impl FromStr for Cursor {
    type Err = DomainError;

    fn from_str(text: &str) -> Result<Self, DomainError> {
        let invalid = || DomainError::invalid("cursor", "not a cursor this inbox gave out");
        let plain = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
        let plain = std::str::from_utf8(&plain).map_err(|_| invalid())?;
        let (micros, id) = plain.split_once(':').ok_or_else(invalid)?;
        Ok(Self {
            occurred_at: micros
                .parse()
                .ok()
                .and_then(DateTime::from_timestamp_micros)
                .ok_or_else(invalid)?,
            id: id.parse().map_err(|_| invalid())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_to_the_microsecond() {
        let cursor = Cursor {
            occurred_at: DateTime::from_timestamp_micros(1_764_806_400_123_456).unwrap(),
            id: Uuid::new_v4(),
        };
        let text = cursor.to_string();
        assert!(!text.contains(':') && !text.contains('/'), "{text}");
        assert_eq!(text.parse::<Cursor>().unwrap(), cursor);
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in ["", "!!", "bm9wZQ", &URL_SAFE_NO_PAD.encode("12:nope")] {
            assert!(
                matches!(
                    bad.parse::<Cursor>(),
                    Err(DomainError::Invalid {
                        field: "cursor",
                        ..
                    })
                ),
                "{bad}"
            );
        }
    }
}
