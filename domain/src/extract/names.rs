//! Display-name cleanup for values taken from already-decoded `From`/`To`
//! headers (RFC 2047 decoding happens upstream).
//!
//! A CRM shows these names to people, so the rules prefer returning `None`
//! over inventing a name: a bare address never becomes a name, because the
//! local part (`jsmith`, `sales`) is often not how the person is called.

use std::cmp::Ordering;

/// A cleaned, human-presentable person name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// How informative the name is; higher is better (see [`best_name`]).
    pub fn quality(&self) -> NameQuality {
        let tokens = self.0.split_whitespace().count();
        if tokens >= 2 {
            NameQuality::FullName
        } else {
            NameQuality::SingleToken
        }
    }
}

impl std::fmt::Display for DisplayName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Ordering used to pick the best name seen across many messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NameQuality {
    SingleToken,
    FullName,
}

/// Suffixes mail services append to the real sender's name
/// ("Jane Doe via LinkedIn", "Jane Doe (via Google Docs)").
const VIA_MARKERS: [&str; 3] = [" via ", " (via ", " through "];

/// Clean a decoded display name. Returns `None` when nothing person-like is
/// left (empty, only an address, only punctuation).
pub fn clean_display_name(raw: &str) -> Option<DisplayName> {
    let mut s = raw.trim().to_string();
    s = strip_quotes(&s);
    // "Name <addr>" passed whole: keep only the name part.
    if let Some(i) = s.find('<') {
        s.truncate(i);
    }
    s = strip_quotes(s.trim());
    for marker in VIA_MARKERS {
        if let Some(i) = s.to_lowercase().find(marker) {
            s.truncate(i);
        }
    }
    s = strip_bracketed(&s);
    // Embedded addresses: "jane@acme.com" alone or "Jane (jane@acme.com)".
    let kept: Vec<&str> = s
        .split_whitespace()
        .filter(|t| !t.contains('@') && !t.starts_with("mailto:"))
        .collect();
    s = kept.join(" ");
    s = s
        .trim_matches(|c: char| c == ',' || c == ';' || c == '-' || c == '\'' || c == '"')
        .trim()
        .to_string();
    s = swap_last_first(&s);
    if !s.chars().any(char::is_alphabetic) {
        return None;
    }
    Some(DisplayName(normalize_case(&s)))
}

/// Pick the most informative name among candidates (full name beats single
/// token beats none); ties keep the earliest candidate for stability.
pub fn best_name<'a, I>(candidates: I) -> Option<DisplayName>
where
    I: IntoIterator<Item = &'a str>,
{
    let mut best: Option<DisplayName> = None;
    for c in candidates {
        let Some(n) = clean_display_name(c) else {
            continue;
        };
        let better = match &best {
            None => true,
            Some(b) => match n.quality().cmp(&b.quality()) {
                Ordering::Greater => true,
                // "Jane M. Doe" carries more than "Jane Doe".
                Ordering::Equal => token_count(&n) > token_count(b),
                Ordering::Less => false,
            },
        };
        if better {
            best = Some(n);
        }
    }
    best
}

fn token_count(n: &DisplayName) -> usize {
    n.as_str().split_whitespace().count()
}

fn strip_quotes(s: &str) -> String {
    let t = s.trim();
    let t = t
        .strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(t);
    let t = t
        .strip_prefix('\'')
        .and_then(|x| x.strip_suffix('\''))
        .unwrap_or(t);
    t.replace("\\\"", "\"").trim().to_string()
}

/// Remove "(Sales)", "[External]", "(jane@acme.com)" style annotations; they
/// describe a role or repeat the address rather than name the person.
fn strip_bracketed(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut depth = 0usize;
    for c in s.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// "Doe, Jane" -> "Jane Doe". Only when both sides are short name-like
/// parts, so "Acme, Inc." or "Smith, Jones & Co" are not reordered.
fn swap_last_first(s: &str) -> String {
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    if parts.len() != 2 || parts.iter().any(|p| p.is_empty()) {
        return s.to_string();
    }
    let (last, first) = (parts[0], parts[1]);
    let namey = |p: &str| {
        let n = p.split_whitespace().count();
        (1..=3).contains(&n)
            && p.chars()
                .all(|c| c.is_alphabetic() || c == ' ' || c == '.' || c == '-' || c == '\'')
    };
    let suffix = [
        "inc", "inc.", "llc", "ltd", "ltd.", "jr", "jr.", "sr", "sr.", "ii", "iii", "phd", "md",
    ];
    if namey(last) && namey(first) && !suffix.contains(&first.to_lowercase().as_str()) {
        format!("{first} {last}")
    } else {
        s.to_string()
    }
}

/// "JANE DOE" / "jane doe" -> "Jane Doe". Mixed case is kept as written
/// because it is usually deliberate ("McDonald", "van der Berg", "DeShawn").
fn normalize_case(s: &str) -> String {
    let letters: Vec<char> = s.chars().filter(|c| c.is_alphabetic()).collect();
    let all_upper = letters.iter().all(|c| !c.is_lowercase());
    let all_lower = letters.iter().all(|c| !c.is_uppercase());
    if letters.len() < 2 || !(all_upper || all_lower) {
        return s.to_string();
    }
    s.split(' ').map(title_word).collect::<Vec<_>>().join(" ")
}

/// Title-case one word, also after hyphens and apostrophes ("o'neil-smith"
/// -> "O'Neil-Smith").
fn title_word(w: &str) -> String {
    let mut out = String::with_capacity(w.len());
    let mut start = true;
    for c in w.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
        start = c == '-' || c == '\'';
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(s: &str) -> Option<String> {
        clean_display_name(s).map(|n| n.as_str().to_string())
    }

    #[test]
    fn quoted_and_angle_forms() {
        assert_eq!(clean("\"Jane Doe\""), Some("Jane Doe".into()));
        assert_eq!(
            clean("\"Jane Doe\" <jane@acme.com>"),
            Some("Jane Doe".into())
        );
    }

    #[test]
    fn last_first_is_swapped() {
        assert_eq!(clean("Doe, Jane"), Some("Jane Doe".into()));
        assert_eq!(
            clean("\"Valdez, Christina M.\""),
            Some("Christina M. Valdez".into())
        );
        assert_eq!(clean("Acme, Inc."), Some("Acme, Inc.".into()));
    }

    #[test]
    fn via_and_role_suffixes() {
        assert_eq!(clean("Jane Doe via LinkedIn"), Some("Jane Doe".into()));
        assert_eq!(clean("Jane Doe (via Google Docs)"), Some("Jane Doe".into()));
        assert_eq!(clean("Jane Doe (Sales)"), Some("Jane Doe".into()));
        assert_eq!(clean("Jane Doe [External]"), Some("Jane Doe".into()));
        assert_eq!(clean("Jane Doe jane@acme.com"), Some("Jane Doe".into()));
    }

    #[test]
    fn bare_address_is_not_a_name() {
        assert_eq!(clean("jane.doe@acme.com"), None);
        assert_eq!(clean("<jane.doe@acme.com>"), None);
        assert_eq!(clean("  "), None);
        assert_eq!(clean("\"\""), None);
    }

    #[test]
    fn case_normalization() {
        assert_eq!(clean("JANE O'NEIL-SMITH"), Some("Jane O'Neil-Smith".into()));
        assert_eq!(clean("jane doe"), Some("Jane Doe".into()));
        assert_eq!(clean("Ronald McDonald"), Some("Ronald McDonald".into()));
    }

    #[test]
    fn non_ascii_decoded_names() {
        assert_eq!(clean("Müller, Jürgen"), Some("Jürgen Müller".into()));
        assert_eq!(clean("ÉLODIE LEFÈVRE"), Some("Élodie Lefèvre".into()));
        assert_eq!(clean("山田 太郎"), Some("山田 太郎".into()));
    }

    #[test]
    fn best_name_prefers_full_names() {
        let b = best_name(["jane@acme.com", "Jane", "Jane Doe", "J"]);
        assert_eq!(b.map(|n| n.as_str().to_string()), Some("Jane Doe".into()));
        assert_eq!(best_name(["jane@acme.com"]), None);
        let q = clean_display_name("Jane").unwrap().quality();
        assert!(q < clean_display_name("Jane Doe").unwrap().quality());
    }
}
