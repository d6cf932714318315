//! Grading an answer against an expected value, for `make eval-ask`. The expected
//! value is JSON, written by people (or derived from a mailbox's ground truth):
//!
//! - `null`: the right answer is a refusal (an ambiguous or unknown name, a question
//!   outside the engine).
//! - a number: a count (`"how many emails…"`).
//! - `"YYYY-MM-DD"`: a date (`"when did I last…"`), compared by UTC day.
//! - another string: one person (name or any of their addresses), a company (name or
//!   domain), or a field value such as a phone number or title (one of the answer's
//!   values must equal it, case-insensitively; phone numbers by digits).
//! - an array of strings: a set of people (each by name or address), companies or
//!   values, compared order-insensitively and exactly (nothing missing, nothing extra).

use serde::Serialize;

use domain::ask::answer::{Answer, AnswerValue, name_key};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Correct,
    Refused,
    Wrong,
}

pub fn grade(expected: &serde_json::Value, answer: &Answer) -> Verdict {
    use serde_json::Value;
    if expected.is_null() {
        return if answer.refused {
            Verdict::Correct
        } else {
            Verdict::Wrong
        };
    }
    if answer.refused {
        return Verdict::Refused;
    }
    let right = match expected {
        Value::Number(n) => matches!(answer.value, AnswerValue::Number(v) if n.as_i64() == Some(v)),
        Value::String(s) if is_date(s) => match &answer.value {
            AnswerValue::Date(at) => at.format("%Y-%m-%d").to_string() == *s,
            _ => false,
        },
        Value::String(s) => {
            let items = items_of(&answer.value);
            match &answer.value {
                AnswerValue::Facts(_) => items.iter().any(|keys| keys.iter().any(|k| same(k, s))),
                _ => items.len() == 1 && items[0].iter().any(|k| same(k, s)),
            }
        }
        Value::Array(list) => {
            let wanted: Option<Vec<&str>> = list.iter().map(Value::as_str).collect();
            match wanted {
                Some(wanted) => same_set(&wanted, &items_of(&answer.value)),
                None => false,
            }
        }
        _ => false,
    };
    if right {
        Verdict::Correct
    } else {
        Verdict::Wrong
    }
}

fn is_date(s: &str) -> bool {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

/// Each item of the answer with the strings that identify it.
fn items_of(value: &AnswerValue) -> Vec<Vec<String>> {
    match value {
        AnswerValue::People(people) => people
            .iter()
            .map(|p| p.name.iter().chain(&p.emails).cloned().collect())
            .collect(),
        AnswerValue::Companies(rows) => rows
            .iter()
            .map(|c| c.name.iter().cloned().chain([c.domain.clone()]).collect())
            .collect(),
        AnswerValue::Facts(values) => values.iter().map(|v| vec![v.clone()]).collect(),
        AnswerValue::Number(n) => vec![vec![n.to_string()]],
        AnswerValue::Date(at) => vec![vec![at.format("%Y-%m-%d").to_string()]],
        AnswerValue::Messages(_) | AnswerValue::Nothing => Vec::new(),
    }
}

/// Every wanted string names a different item and every item is named.
fn same_set(wanted: &[&str], items: &[Vec<String>]) -> bool {
    if wanted.len() != items.len() {
        return false;
    }
    let mut used = vec![false; items.len()];
    wanted.iter().all(|w| {
        let found = items
            .iter()
            .enumerate()
            .position(|(i, keys)| !used[i] && keys.iter().any(|k| same(k, w)));
        found.map(|i| used[i] = true).is_some()
    })
}

fn same(a: &str, b: &str) -> bool {
    let digits = |s: &str| -> Option<String> {
        let d: String = s.chars().filter(char::is_ascii_digit).collect();
        let phone_like = s
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c));
        (phone_like && d.len() >= 7).then_some(d)
    };
    match (digits(a), digits(b)) {
        (Some(x), Some(y)) => x == y,
        _ => name_key(a) == name_key(b),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use serde_json::json;
    use uuid::Uuid;

    use super::*;
    use domain::ask::Person;

    fn person(name: &str, email: &str) -> Person {
        Person {
            contact_ids: vec![Uuid::nil()],
            name: Some(name.into()),
            emails: vec![email.into()],
        }
    }

    fn answer(value: AnswerValue) -> Answer {
        Answer::answered(String::new(), value, vec![])
    }

    #[test]
    fn sets_are_order_insensitive_and_exact() {
        let a = answer(AnswerValue::People(vec![
            person("Dana Ito", "dana@acme.com"),
            person("Sam Lee", "sam@acme.com"),
        ]));
        assert_eq!(
            grade(&json!(["sam@acme.com", "Dana Ito"]), &a),
            Verdict::Correct
        );
        assert_eq!(grade(&json!(["sam@acme.com"]), &a), Verdict::Wrong);
        assert_eq!(
            grade(&json!(["sam@acme.com", "sam lee"]), &a),
            Verdict::Wrong
        );
        assert_eq!(
            grade(&json!("Dana Ito"), &a),
            Verdict::Wrong,
            "one person expected, two given"
        );
    }

    #[test]
    fn numbers_dates_and_facts() {
        assert_eq!(
            grade(&json!(12), &answer(AnswerValue::Number(12))),
            Verdict::Correct
        );
        assert_eq!(
            grade(&json!(11), &answer(AnswerValue::Number(12))),
            Verdict::Wrong
        );
        let day = Utc.with_ymd_and_hms(2025, 6, 3, 23, 59, 0).unwrap();
        assert_eq!(
            grade(&json!("2025-06-03"), &answer(AnswerValue::Date(day))),
            Verdict::Correct
        );
        let phones = answer(AnswerValue::Facts(vec![
            "+12065550177".into(),
            "+13035550158".into(),
        ]));
        assert_eq!(
            grade(&json!("+1 (303) 555-0158"), &phones),
            Verdict::Correct
        );
        let title = answer(AnswerValue::Facts(vec!["Head of Sales".into()]));
        assert_eq!(grade(&json!("head of sales"), &title), Verdict::Correct);
    }

    #[test]
    fn refusals() {
        let refused = Answer::refusal("Several people match".into(), vec![]);
        assert_eq!(grade(&json!(null), &refused), Verdict::Correct);
        assert_eq!(grade(&json!(3), &refused), Verdict::Refused);
        assert_eq!(
            grade(&json!(null), &answer(AnswerValue::Number(3))),
            Verdict::Wrong
        );
    }
}
