//! The search box's language, parsed once into a [`SearchQuery`]: words, `"phrases"` and
//! the operators `from:` `to:` `channel:` `before:` `after:` `has:attachment`. Pure: no
//! database here; the store turns a parsed query into a tsquery.

use api::Channel;
use chrono::{DateTime, NaiveDate, Utc};

/// Longest query, in characters.
pub const MAX_QUERY_CHARS: usize = 500;
/// Most words, phrases and operators in one query.
pub const MAX_TERMS: usize = 32;

/// A parsed search. Every list is ANDed, except `channels` (any of them).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SearchQuery {
    /// Words matched stemmed or as typed, in the subject, body, participants and
    /// attachment names.
    pub words: Vec<String>,
    /// Quoted phrases: their words in that order.
    pub phrases: Vec<String>,
    /// `from:` values: a whole address, else words of the sender's name or address.
    pub from: Vec<String>,
    /// `to:` values: the same for a recipient (to, cc, bcc, attendee).
    pub to: Vec<String>,
    pub channels: Vec<Channel>,
    /// `after:DATE`: at or after the start of that day (UTC).
    pub after: Option<NaiveDate>,
    /// `before:DATE`: before the start of that day (UTC).
    pub before: Option<NaiveDate>,
    pub has_attachment: bool,
}

/// Why a query cannot be run; the message says what to type instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("type something to search for")]
    Empty,
    #[error("the search is longer than {MAX_QUERY_CHARS} characters")]
    TooLong,
    #[error("the search has more than {MAX_TERMS} words and operators")]
    TooManyTerms,
    #[error("a quote (\") is not closed")]
    UnclosedQuote,
    #[error("unknown operator {0}: (known: from:, to:, channel:, before:, after:, has:attachment)")]
    UnknownOperator(String),
    #[error("{0}: needs a value, like {0}:{1}")]
    MissingValue(&'static str, &'static str),
    #[error("{0}: needs a name or an address with letters or digits, not \"{1}\"")]
    NoWords(&'static str, String),
    #[error("{op}: needs a date like 2024-05-31, not \"{value}\"")]
    BadDate { op: &'static str, value: String },
    #[error("channel: must be one of {expected}, not \"{value}\"")]
    BadChannel { value: String, expected: String },
    #[error("has: only knows has:attachment, not has:{0}")]
    BadHas(String),
    #[error("after:{after} is not before before:{before}: nothing can match")]
    EmptyRange { after: NaiveDate, before: NaiveDate },
}

/// One token of the input: a bare word, a quoted phrase, or `name:value`.
#[derive(Debug, PartialEq)]
enum Token {
    Word(String),
    Phrase(String),
    Operator(String, String),
}

impl SearchQuery {
    /// Parses what the user typed.
    pub fn parse(input: &str) -> Result<Self, QueryError> {
        if input.chars().count() > MAX_QUERY_CHARS {
            return Err(QueryError::TooLong);
        }
        let tokens = tokenize(input)?;
        if tokens.is_empty() {
            return Err(QueryError::Empty);
        }
        if tokens.len() > MAX_TERMS {
            return Err(QueryError::TooManyTerms);
        }
        let mut query = Self::default();
        for token in tokens {
            match token {
                Token::Word(word) => query.words.push(word),
                Token::Phrase(phrase) => query.phrases.push(phrase),
                Token::Operator(name, value) => query.operator(&name, value)?,
            }
        }
        if let (Some(after), Some(before)) = (query.after, query.before)
            && after >= before
        {
            return Err(QueryError::EmptyRange { after, before });
        }
        Ok(query)
    }

    fn operator(&mut self, name: &str, value: String) -> Result<(), QueryError> {
        match name {
            "from" | "to" => {
                let op = if name == "from" { "from" } else { "to" };
                if value.is_empty() {
                    return Err(QueryError::MissingValue(op, "dana@example.com"));
                }
                if !value.chars().any(char::is_alphanumeric) {
                    return Err(QueryError::NoWords(op, value));
                }
                if op == "from" {
                    self.from.push(value);
                } else {
                    self.to.push(value);
                }
            }
            "channel" => {
                if value.is_empty() {
                    return Err(QueryError::MissingValue("channel", "email"));
                }
                let channel =
                    Channel::parse(&value.to_lowercase()).map_err(|e| QueryError::BadChannel {
                        value: value.clone(),
                        expected: e.expected.join(", "),
                    })?;
                if !self.channels.contains(&channel) {
                    self.channels.push(channel);
                }
            }
            "before" | "after" => {
                let op = if name == "before" { "before" } else { "after" };
                if value.is_empty() {
                    return Err(QueryError::MissingValue(op, "2024-05-31"));
                }
                let date = parse_date(&value).ok_or(QueryError::BadDate { op, value })?;
                if op == "before" {
                    self.before = Some(self.before.map_or(date, |b| b.min(date)));
                } else {
                    self.after = Some(self.after.map_or(date, |a| a.max(date)));
                }
            }
            "has" => match value.to_lowercase().as_str() {
                "attachment" | "attachments" => self.has_attachment = true,
                "" => return Err(QueryError::MissingValue("has", "attachment")),
                _ => return Err(QueryError::BadHas(value)),
            },
            _ => return Err(QueryError::UnknownOperator(name.to_owned())),
        }
        Ok(())
    }

    /// The start of the `after:` day.
    pub fn after_instant(&self) -> Option<DateTime<Utc>> {
        self.after.map(start_of)
    }

    /// The start of the `before:` day (excluded).
    pub fn before_instant(&self) -> Option<DateTime<Utc>> {
        self.before.map(start_of)
    }

    /// The channels' stored names.
    pub fn channel_names(&self) -> Vec<String> {
        self.channels
            .iter()
            .map(|c| c.as_str().to_owned())
            .collect()
    }
}

fn start_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc()
}

/// `2024-05-31` or `2024/05/31`.
fn parse_date(value: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(value, "%Y/%m/%d"))
        .ok()
}

/// Splits on whitespace; `"..."` is one phrase, `name:value` an operator (its value may
/// be quoted: `from:"Dana Whitfield"`). A word whose part before `:` is not letters
/// only (`10:30`, `https://...`) stays a word, and so does a trailing `re:`.
fn tokenize(input: &str) -> Result<Vec<Token>, QueryError> {
    let mut tokens = Vec::new();
    let mut chars = input.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(&first) = chars.peek() else {
            break;
        };
        if first == '"' {
            chars.next();
            let phrase = quoted(&mut chars)?;
            if phrase.chars().any(char::is_alphanumeric) {
                tokens.push(Token::Phrase(
                    phrase.split_whitespace().collect::<Vec<_>>().join(" "),
                ));
            }
            continue;
        }
        let mut word = String::new();
        while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
            if c == ':' && is_operator_name(&word) {
                let name = word.to_lowercase();
                let value = if chars.next_if_eq(&'"').is_some() {
                    quoted(&mut chars)?.trim().to_owned()
                } else {
                    let mut value = String::new();
                    while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                        value.push(c);
                    }
                    value
                };
                if value.is_empty() && !is_known(&name) {
                    // `re: lunch`: a word, not an operator.
                    tokens.push(Token::Word(word));
                } else {
                    tokens.push(Token::Operator(name, value));
                }
                word = String::new();
                break;
            }
            word.push(c);
        }
        if word.chars().any(char::is_alphanumeric) {
            tokens.push(Token::Word(word));
        }
    }
    Ok(tokens)
}

/// The rest of a quoted string, its closing quote consumed.
fn quoted(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<String, QueryError> {
    let mut text = String::new();
    for c in chars.by_ref() {
        if c == '"' {
            return Ok(text);
        }
        text.push(c);
    }
    Err(QueryError::UnclosedQuote)
}

fn is_operator_name(word: &str) -> bool {
    !word.is_empty() && word.chars().all(|c| c.is_ascii_alphabetic())
}

fn is_known(name: &str) -> bool {
    matches!(name, "from" | "to" | "channel" | "before" | "after" | "has")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn words_phrases_and_operators_become_typed_terms() {
        let q = SearchQuery::parse(
            r#"  Contract "the  renewal terms" from:dana to:"Bob Smith" channel:Email
               channel:sms after:2024-01-01 before:2024/06/30 has:attachment 10:30 re: "#,
        )
        .unwrap();
        assert_eq!(q.words, vec!["Contract", "10:30", "re"]);
        assert_eq!(q.phrases, vec!["the renewal terms"]);
        assert_eq!(q.from, vec!["dana"]);
        assert_eq!(q.to, vec!["Bob Smith"]);
        assert_eq!(q.channels, vec![Channel::Email, Channel::Sms]);
        assert_eq!(q.after, Some(date("2024-01-01")));
        assert_eq!(q.before, Some(date("2024-06-30")));
        assert!(q.has_attachment);
        assert_eq!(
            q.after_instant().unwrap().to_rfc3339(),
            "2024-01-01T00:00:00+00:00"
        );
    }

    #[test]
    fn operators_alone_are_a_query() {
        let q = SearchQuery::parse("from:dana@acme.com").unwrap();
        assert_eq!(q.from, vec!["dana@acme.com"]);
        assert!(q.words.is_empty());
        let q = SearchQuery::parse("before:2020-01-01").unwrap();
        assert_eq!(q.before, Some(date("2020-01-01")));
    }

    #[test]
    fn bad_input_says_what_is_wrong() {
        let err = |q: &str| SearchQuery::parse(q).unwrap_err();
        assert_eq!(err("   "), QueryError::Empty);
        assert_eq!(err("\"\" --"), QueryError::Empty);
        assert_eq!(
            err("subject:lunch"),
            QueryError::UnknownOperator("subject".into())
        );
        assert_eq!(
            err("from:"),
            QueryError::MissingValue("from", "dana@example.com")
        );
        assert_eq!(err("to:--"), QueryError::NoWords("to", "--".into()));
        assert_eq!(
            err("before:yesterday"),
            QueryError::BadDate {
                op: "before",
                value: "yesterday".into()
            }
        );
        assert_eq!(
            err("after:2024-02-30"),
            QueryError::BadDate {
                op: "after",
                value: "2024-02-30".into()
            }
        );
        assert!(matches!(err("channel:fax"), QueryError::BadChannel { .. }));
        assert!(err("channel:fax").to_string().contains("email"));
        assert_eq!(err("has:pdf"), QueryError::BadHas("pdf".into()));
        assert_eq!(err("\"open phrase"), QueryError::UnclosedQuote);
        assert_eq!(err("from:\"Dana"), QueryError::UnclosedQuote);
        assert!(matches!(
            err("after:2024-02-01 before:2024-01-01"),
            QueryError::EmptyRange { .. }
        ));
        assert_eq!(err(&"a".repeat(MAX_QUERY_CHARS + 1)), QueryError::TooLong);
        assert_eq!(err(&"w ".repeat(MAX_TERMS + 1)), QueryError::TooManyTerms);
    }

    #[test]
    fn repeated_dates_narrow_the_range() {
        let q = SearchQuery::parse(
            "after:2024-01-01 after:2024-03-01 before:2025-01-01 before:2024-12-01",
        )
        .unwrap();
        assert_eq!(q.after, Some(date("2024-03-01")));
        assert_eq!(q.before, Some(date("2024-12-01")));
    }
}
