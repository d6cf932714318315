//! Scoring of signature extraction against the annotated-Enron format
//! (`X.txt` raw message + `X.txt.ann` JSON with `text`, `meta.header` and
//! `denotations` of type `Body/Signature/*`). Pure: the `eval-signatures` binary does the I/O.
//!
//! Matching: per email and field, predicted and gold values are
//! deduplicated after normalisation (lower-case, collapsed whitespace,
//! trimmed punctuation). Text fields match when equal or when one contains
//! the other on word boundaries (gold "Enron North America Corp.\nLegal
//! Department" vs predicted "Enron North America Corp."). Phones match on
//! their last 10 digits (so "+44 (0)20 ..." and "+4420..." agree). A
//! predicted value is a TP if it matches any gold value of that field in
//! that email; a gold value is found if any prediction matches it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use domain::extract::address::{automated_sender, parse_address_list};
use domain::extract::phone::PhoneKind;
use domain::extract::quotes::segments;
use domain::extract::signature::model::{COMMITTED, Model, Role};
use domain::extract::signature::{SenderHint, candidate_cells, extract_signature_with};

#[derive(Debug, Deserialize)]
pub struct Annotation {
    pub text: String,
    #[serde(default)]
    pub meta: Option<AnnMeta>,
    #[serde(default)]
    pub denotations: Vec<Denotation>,
}

#[derive(Debug, Deserialize)]
pub struct AnnMeta {
    #[serde(default)]
    pub header: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
pub struct Denotation {
    #[serde(rename = "type")]
    pub kind: String,
    pub start: usize,
    pub end: usize,
    #[serde(default)]
    pub text: Option<String>,
}

/// Fields scored, with the gold label each maps to (`url` has no gold label
/// in this corpus, so only its prediction count is informative).
pub const FIELDS: [(&str, Option<&str>); 7] = [
    ("name", Some("Body/Signature/Name")),
    ("title", Some("Body/Signature/Position")),
    ("company", Some("Body/Signature/Organisation")),
    ("phone", Some("Body/Signature/Phone")),
    ("fax", Some("Body/Signature/Fax")),
    ("email", Some("Body/Signature/Mail")),
    ("url", None),
];

/// Counts for one field.
#[derive(Debug, Default, Clone, Serialize)]
pub struct FieldScore {
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    pub f1: Option<f64>,
    pub tp: usize,
    pub fp: usize,
    #[serde(rename = "fn")]
    pub fn_: usize,
    pub gold: usize,
    pub predicted: usize,
}

/// Unfolded header fields of a raw RFC 5322 message (up to the first blank line).
pub fn parse_header_block(raw: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in raw.lines() {
        if line.trim().is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((k, v)) = line.split_once(':') {
            out.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    out
}

/// A body segment with the sender facts its signature is read against.
struct SegmentSender {
    text: String,
    name: Option<String>,
    email: Option<String>,
    /// Organisation line of a quoted Lotus Notes header.
    organisation: Option<String>,
}

/// The segments of an email worth mining, as a syncing pipeline sees them:
/// the own text (sender from headers) and every quoted segment (sender from
/// its embedded header block); machine senders are left out because they
/// never become contacts.
fn mined_segments(body: &str, headers: &[(String, String)]) -> Vec<SegmentSender> {
    let get = |k: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.as_str())
    };
    let from = get("From").unwrap_or("");
    let from_box = parse_address_list(from).into_iter().next();
    // Enron keeps the display name in X-From; real mail has it in From.
    let name = get("X-From").map(str::to_string).or_else(|| {
        from_box
            .as_ref()
            .and_then(|m| m.name.as_ref().map(|n| n.to_string()))
    });
    let email = from_box.map(|m| m.email);
    segments(body)
        .into_iter()
        .map(|seg| {
            let (name, email, organisation) = match &seg.sender {
                None if seg.first_line == 0 => (name.clone(), email.clone(), None),
                None => (None, None, None),
                Some(s) => (
                    s.name.as_ref().map(|n| n.to_string()),
                    s.email.clone(),
                    s.organisation.clone(),
                ),
            };
            SegmentSender {
                text: seg.text,
                name,
                email,
                organisation,
            }
        })
        .filter(|s| !s.email.as_deref().is_some_and(automated_sender))
        .collect()
}

impl SegmentSender {
    fn hint<'a>(&'a self, default_region: &'a str) -> SenderHint<'a> {
        SenderHint {
            name: self.name.as_deref(),
            email: self.email.as_deref(),
            default_region: Some(default_region),
        }
    }
}

/// Predicted values per field for one email with the committed extractor.
pub fn predict(
    body: &str,
    headers: &[(String, String)],
    default_region: &str,
) -> BTreeMap<&'static str, Vec<String>> {
    predict_with(body, headers, default_region, &COMMITTED)
}

/// Predicted values per field for one email, the cell classifier given.
pub fn predict_with(
    body: &str,
    headers: &[(String, String)],
    default_region: &str,
    model: &Model,
) -> BTreeMap<&'static str, Vec<String>> {
    let mut out: BTreeMap<&'static str, Vec<String>> =
        FIELDS.iter().map(|(f, _)| (*f, Vec::new())).collect();
    for seg in mined_segments(body, headers) {
        let sig = extract_signature_with(&seg.text, &seg.hint(default_region), model);
        let push = |out: &mut BTreeMap<&'static str, Vec<String>>, f: &'static str, v: &str| {
            out.entry(f).or_default().push(v.to_string());
        };
        if let Some(o) = seg
            .organisation
            .as_deref()
            .filter(|_| sig.as_ref().is_none_or(|s| s.company.is_none()))
        {
            push(&mut out, "company", o);
        }
        let Some(sig) = sig else { continue };
        for (f, v) in [
            ("name", &sig.name),
            ("title", &sig.title),
            ("company", &sig.company),
        ] {
            if let Some(v) = v {
                push(&mut out, f, &v.value);
            }
        }
        for p in &sig.phones {
            let f = if p.kind == PhoneKind::Fax {
                "fax"
            } else {
                "phone"
            };
            push(&mut out, f, p.number.as_str());
        }
        for e in &sig.emails {
            push(&mut out, "email", &e.value);
        }
        for u in sig.websites.iter().chain(&sig.linkedin).chain(&sig.twitter) {
            push(&mut out, "url", &u.value);
        }
    }
    out
}

/// What the extractor saw in each mined segment of one email, for studying
/// its mistakes: the sender hint, the block's lines, and every candidate cell
/// with its name/title/company/other probabilities.
pub fn explain(
    body: &str,
    headers: &[(String, String)],
    default_region: &str,
    model: &Model,
) -> String {
    let mut out = String::new();
    for seg in mined_segments(body, headers) {
        let hint = seg.hint(default_region);
        let sig = extract_signature_with(&seg.text, &hint, model);
        out.push_str(&format!(
            "  segment from {:?} <{:?}>: block {:?}\n",
            seg.name,
            seg.email,
            sig.as_ref().map(|s| s.lines.clone())
        ));
        for c in candidate_cells(&seg.text, &hint) {
            let p = model.probabilities(&c.features);
            out.push_str(&format!(
                "    {:>3} n{:.2} t{:.2} c{:.2} o{:.2}  {:?}\n",
                c.line, p[0], p[1], p[2], p[3], c.text
            ));
        }
    }
    out
}

/// Training examples of one email: every candidate cell of every mined
/// segment's signature block, labelled with the first of name, title and
/// company whose gold value it matches (else `Other`).
pub fn examples(
    body: &str,
    headers: &[(String, String)],
    gold: &BTreeMap<&'static str, Vec<String>>,
    default_region: &str,
) -> Vec<(Vec<String>, Role)> {
    let mut out = Vec::new();
    for seg in mined_segments(body, headers) {
        for c in candidate_cells(&seg.text, &seg.hint(default_region)) {
            let role = [
                ("name", Role::Name),
                ("title", Role::Title),
                ("company", Role::Company),
            ]
            .into_iter()
            .find(|(f, _)| {
                gold.get(f)
                    .into_iter()
                    .flatten()
                    .any(|g| matches(f, &c.text, g))
            })
            .map_or(Role::Other, |(_, r)| r);
            out.push((c.features, role));
        }
    }
    out
}

/// Gold values per field from the denotations.
pub fn gold(ann: &Annotation) -> BTreeMap<&'static str, Vec<String>> {
    let chars: Vec<char> = ann.text.chars().collect();
    let mut out: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    for (field, label) in FIELDS {
        let vals = ann
            .denotations
            .iter()
            .filter(|d| Some(d.kind.as_str()) == label)
            .map(|d| {
                // Offsets are character offsets; the span text is the fallback.
                d.text.clone().unwrap_or_else(|| {
                    chars
                        .get(d.start..d.end)
                        .map(|c| c.iter().collect())
                        .unwrap_or_default()
                })
            })
            .collect();
        out.insert(field, vals);
    }
    out
}

fn norm(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
        .trim_matches(['.', ',', ';', ':', '>', ' '])
        .to_string()
}

fn digits_tail(s: &str) -> String {
    let d: Vec<char> = s.chars().filter(char::is_ascii_digit).collect();
    d[d.len().saturating_sub(10)..].iter().collect()
}

fn contains_words(hay: &str, needle: &str) -> bool {
    needle.len() >= 4
        && hay.match_indices(needle).any(|(i, _)| {
            let before = hay[..i]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric());
            let after = hay[i + needle.len()..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_alphanumeric());
            before && after
        })
}

fn matches(field: &str, pred: &str, gold: &str) -> bool {
    if field == "phone" || field == "fax" {
        let (p, g) = (digits_tail(pred), digits_tail(gold));
        return g.len() >= 7 && p == g;
    }
    let (p, g) = (norm(pred), norm(gold));
    !p.is_empty() && (p == g || contains_words(&g, &p) || contains_words(&p, &g))
}

/// Accumulate one email's predictions against its gold values.
pub fn score_email(
    scores: &mut BTreeMap<&'static str, FieldScore>,
    pred: &BTreeMap<&'static str, Vec<String>>,
    gold: &BTreeMap<&'static str, Vec<String>>,
) {
    for (field, _) in FIELDS {
        let dedup = |v: Option<&Vec<String>>| {
            let mut seen: Vec<String> = Vec::new();
            for x in v.into_iter().flatten() {
                let key = if field == "phone" || field == "fax" {
                    digits_tail(x)
                } else {
                    norm(x)
                };
                if !key.is_empty() && !seen.contains(&key) {
                    seen.push(key);
                }
            }
            seen
        };
        let (p, g) = (dedup(pred.get(field)), dedup(gold.get(field)));
        let s = scores.entry(field).or_default();
        let tp = p
            .iter()
            .filter(|x| g.iter().any(|y| matches(field, x, y)))
            .count();
        let found = g
            .iter()
            .filter(|y| p.iter().any(|x| matches(field, x, y)))
            .count();
        s.tp += tp;
        s.fp += p.len() - tp;
        s.fn_ += g.len() - found;
        s.gold += g.len();
        s.predicted += p.len();
    }
}

/// One email's mistakes per field: predictions matching no gold value (`fp`)
/// and gold values no prediction matches (`fn`), for studying errors by hand.
pub fn mistakes(
    pred: &BTreeMap<&'static str, Vec<String>>,
    gold: &BTreeMap<&'static str, Vec<String>>,
) -> Vec<(&'static str, &'static str, String)> {
    let mut out = Vec::new();
    for (field, _) in FIELDS {
        let (p, g) = (pred.get(field), gold.get(field));
        for x in p.into_iter().flatten() {
            if !g.into_iter().flatten().any(|y| matches(field, x, y)) {
                out.push((field, "fp", x.clone()));
            }
        }
        for y in g.into_iter().flatten() {
            if !p.into_iter().flatten().any(|x| matches(field, x, y)) {
                out.push((field, "fn", y.clone()));
            }
        }
    }
    out
}

/// Fill precision/recall/F1 from the counts (None where undefined).
pub fn finish(scores: &mut BTreeMap<&'static str, FieldScore>) {
    for s in scores.values_mut() {
        let found = s.gold - s.fn_;
        s.precision = (s.predicted > 0 && s.gold > 0).then(|| s.tp as f64 / s.predicted as f64);
        s.recall = (s.gold > 0).then(|| found as f64 / s.gold as f64);
        s.f1 = match (s.precision, s.recall) {
            (Some(p), Some(r)) if p + r > 0.0 => Some(2.0 * p * r / (p + r)),
            (Some(_), Some(_)) => Some(0.0),
            _ => None,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_a_synthetic_email() {
        let ann: Annotation = serde_json::from_str(
            r#"{"text":"Done.\n\nAmy Lin\nSenior Analyst\nGlobex Corp.\nPhone: (713) 555-0142\n","denotations":[
            {"type":"Body/Signature/Name","start":7,"end":14},
            {"type":"Body/Signature/Position","start":15,"end":29},
            {"type":"Body/Signature/Organisation","start":30,"end":42},
            {"type":"Body/Signature/Phone","start":50,"end":64}]}"#,
        )
        .unwrap();
        let headers = parse_header_block("From: amy.lin@globex.com\nX-From: Lin, Amy\n\nbody");
        let pred = predict(&ann.text, &headers, "US");
        let mut scores = BTreeMap::new();
        score_email(&mut scores, &pred, &gold(&ann));
        finish(&mut scores);
        for f in ["name", "title", "company", "phone"] {
            assert_eq!(scores[f].tp, 1, "{f}");
            assert_eq!(scores[f].fn_, 0, "{f}");
        }
        assert_eq!(scores["url"].precision, None);
    }

    #[test]
    fn phone_and_text_matching() {
        assert!(matches("phone", "+442077835466", "+44 (0)20 7783 5466"));
        assert!(matches(
            "company",
            "Enron North America Corp.",
            "Enron North America Corp.\nLegal Department"
        ));
        assert!(!matches("company", "Enron", "Enronline LLC"));
    }
}
