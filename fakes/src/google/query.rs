//! The subset of Gmail search (`q`) the fake understands, turned into a
//! label/date [`Filter`].
//!
//! Supported: `after:` / `before:` (YYYY/MM/DD or YYYY-MM-DD, midnight
//! UTC, or epoch seconds), `in:` inbox/sent/spam/trash/drafts/starred/
//! anywhere, `label:`, `is:` unread/read/starred/important, `category:`,
//! each negatable with `-`. Anything else (free text, `from:`) is rejected
//! with 400 rather than silently ignored, so a caller never mistakes an
//! unfiltered list for a filtered one.

use chrono::{NaiveDate, TimeZone, Utc};

use super::store::{Filter, Store};

enum Term {
    Label { name: String, negated: bool },
    After(i64),
    Before(i64),
    Anywhere,
}

fn parse_date_ms(value: &str) -> Option<i64> {
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse::<i64>().ok().map(|s| s * 1000);
    }
    let date = NaiveDate::parse_from_str(value, "%Y/%m/%d")
        .or_else(|_| NaiveDate::parse_from_str(value, "%Y-%m-%d"))
        .ok()?;
    Some(
        Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0)?)
            .timestamp_millis(),
    )
}

fn parse_terms(q: &str) -> Result<Vec<Term>, String> {
    let unsupported = |token: &str| format!("Unsupported search term in Fake Google: {token}");
    q.split_whitespace()
        .map(|token| {
            let (negated, body) = match token.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, token),
            };
            let (op, value) = body.split_once(':').ok_or_else(|| unsupported(token))?;
            let label = |name: &str| Term::Label {
                name: name.to_string(),
                negated,
            };
            let term = match (
                op.to_ascii_lowercase().as_str(),
                value.to_ascii_lowercase().as_str(),
            ) {
                ("after", v) if !negated => {
                    Term::After(parse_date_ms(v).ok_or_else(|| unsupported(token))?)
                }
                ("before", v) if !negated => {
                    Term::Before(parse_date_ms(v).ok_or_else(|| unsupported(token))?)
                }
                ("in", "anywhere") if !negated => Term::Anywhere,
                ("in", "inbox") => label("INBOX"),
                ("in", "sent") => label("SENT"),
                ("in", "spam") => label("SPAM"),
                ("in", "trash") => label("TRASH"),
                ("in", "drafts") => label("DRAFT"),
                ("in", "starred") | ("is", "starred") => label("STARRED"),
                ("is", "unread") => label("UNREAD"),
                ("is", "read") => Term::Label {
                    name: "UNREAD".to_string(),
                    negated: !negated,
                },
                ("is", "important") => label("IMPORTANT"),
                ("category", c) => label(&format!("CATEGORY_{}", c.to_ascii_uppercase())),
                ("label", _) => label(value),
                _ => return Err(unsupported(token)),
            };
            Ok(term)
        })
        .collect()
}

/// Builds the filter for `messages.list`. Like Gmail, SPAM and TRASH are
/// excluded unless `includeSpamTrash` is set or the request names them.
pub(crate) fn build_filter(
    store: &Store,
    label_ids: &[String],
    q: &str,
    include_spam_trash: bool,
) -> Result<Filter, String> {
    let mut filter = Filter::default();
    let mut include = include_spam_trash;
    for id in label_ids {
        let l = store
            .resolve_label(id)
            .ok_or_else(|| format!("Invalid label: {id}"))?;
        filter.required.push(l);
    }
    for term in parse_terms(q)? {
        match term {
            Term::After(ms) => filter.after_ms = Some(filter.after_ms.map_or(ms, |a| a.max(ms))),
            Term::Before(ms) => filter.before_ms = Some(filter.before_ms.map_or(ms, |b| b.min(ms))),
            Term::Anywhere => include = true,
            Term::Label { name, negated } => match (store.resolve_label(&name), negated) {
                (Some(l), false) => filter.required.push(l),
                (Some(l), true) => filter.excluded.push(l),
                (None, false) => filter.match_nothing = true,
                (None, true) => {}
            },
        }
    }
    let spam_trash = ["SPAM", "TRASH"].map(|l| store.resolve_label(l).expect("system label"));
    if !include && !filter.required.iter().any(|l| spam_trash.contains(l)) {
        filter.excluded.extend(spam_trash);
    }
    filter.required.sort_unstable();
    filter.required.dedup();
    filter.excluded.sort_unstable();
    filter.excluded.dedup();
    Ok(filter)
}
