//! Person names: cleanup of values taken from already-decoded `From`/`To` headers
//! (RFC 2047 decoding happens upstream), signatures and address local parts, and the
//! one rule that picks between them ([`compare_names`]).
//!
//! A CRM shows these names to people, so the rules prefer no name over a wrong one:
//! role and company names ("Sales Team", "Acme, Inc.") are never a person's name, and a
//! local part becomes a name only when it spells one (`jordan.whitlock@`), ranked below
//! every name a person or their mail client wrote.

use std::cmp::Ordering;

use crate::extract::address::ROLE_ACCOUNTS;

/// A cleaned, human-presentable person name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// How complete the name is (see [`NameQuality`]).
    pub fn quality(&self) -> NameQuality {
        let words: Vec<&str> = self.0.split_whitespace().collect();
        let initial = |w: &&str| w.chars().filter(|c| c.is_alphabetic()).count() <= 1;
        let named = words.iter().filter(|w| !initial(w)).count();
        match (words.len(), named) {
            // "山田太郎": scripts written without spaces hold a full name in one word.
            (1, 1) if words[0].chars().filter(|c| unspaced_script(*c)).count() >= 2 => {
                NameQuality::FullName
            }
            (1, 1) if is_initials(words[0]) => NameQuality::Initials,
            (1, 1) => NameQuality::SingleToken,
            (_, 0) => NameQuality::Initials,
            (_, 1) if words.len() >= 2 => NameQuality::Initialed,
            _ if initial(&words[0]) => NameQuality::Initialed,
            _ => NameQuality::FullName,
        }
    }
}

impl std::fmt::Display for DisplayName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// How complete a name is; higher is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NameQuality {
    /// "JW", "J. W."
    Initials,
    /// "Jordan"
    SingleToken,
    /// "J. Whitlock", "Jordan W."
    Initialed,
    /// "Jordan Whitlock", "山田太郎"
    FullName,
}

/// Where a name was read, least trusted first: a name spelled by the address, one a
/// mail client wrote (headers, quoted attributions), an enrichment provider's, one the
/// person wrote themselves in their signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NameSource {
    Address,
    Header,
    Provider,
    Signature,
}

/// Orders two names of one person: the more complete name wins ("Jordan Whitlock" over
/// "J. Whitlock" over "Jordan" over "JW", whoever wrote them), then the more trusted
/// source, then the one with more words ("Jordan M. Whitlock"). The same name in
/// different case prefers the casing a person chose ("McDonald") over a re-cased one
/// ("Mcdonald"). `Equal` means neither is better (keep what is stored).
pub fn compare_names(
    a: &DisplayName,
    a_source: NameSource,
    b: &DisplayName,
    b_source: NameSource,
) -> Ordering {
    if a.0.to_lowercase() == b.0.to_lowercase() {
        return chosen_casing(&a.0).cmp(&chosen_casing(&b.0));
    }
    let rank = |n: &DisplayName, s: NameSource| (n.quality(), s, n.0.split_whitespace().count());
    rank(a, a_source).cmp(&rank(b, b_source))
}

/// Whether a name's case looks chosen by a person rather than plain capitalised words
/// ("McDonald", "van der Berg", "DeShawn" are chosen; "Mcdonald" may be a re-casing).
fn chosen_casing(s: &str) -> bool {
    s.split_whitespace().any(|w| title_word(w) != w)
}

/// The best of several names of one person as `(name, source)` (see
/// [`compare_names`]); ties keep the earliest.
pub fn choose_name<I>(candidates: I) -> Option<(DisplayName, NameSource)>
where
    I: IntoIterator<Item = (DisplayName, NameSource)>,
{
    let mut best: Option<(DisplayName, NameSource)> = None;
    for (name, source) in candidates {
        let better = best
            .as_ref()
            .is_none_or(|(b, bs)| compare_names(&name, source, b, *bs) == Ordering::Greater);
        if better {
            best = Some((name, source));
        }
    }
    best
}

/// A header (or quoted attribution) name for `address`: `Header` when a person wrote
/// it, `Address` when it only repeats the address's local part (`"jwhitlock"
/// <jwhitlock@x.com>`, `"jordan.whitlock" <jordan.whitlock@x.com>`): such a name is the
/// local part's name, or none.
pub fn header_name(raw: &str, address: &str) -> Option<(DisplayName, NameSource)> {
    let local = local_part(address)?;
    let name = clean_display_name(raw)?;
    // Written as the local part is, separators and all; "Yara O'Brien" for
    // `yara_obrien@` is a name someone wrote.
    if strip_quotes(raw).to_lowercase() == local.to_lowercase() {
        return name_from_address(address).map(|n| (n, NameSource::Address));
    }
    Some((name, NameSource::Header))
}

/// The name an address spells when its local part is words joined by `.`, `_` or `-`
/// (`jordan.whitlock@`, `j.whitlock@`, `anais_moreau@`, `mary-kate.olsen2@`); none for
/// one word (`jordan@`, `jwhitlock@`, `jw@`: a first name, or letters we cannot split)
/// and for role and machine addresses.
pub fn name_from_address(address: &str) -> Option<DisplayName> {
    let local = local_part(address)?.split('+').next()?;
    let local = local.trim_end_matches(|c: char| c.is_ascii_digit());
    if ROLE_ACCOUNTS.contains(&local)
        || crate::extract::address::classify_sender(address)
            != crate::extract::address::SenderKind::Person
    {
        return None;
    }
    let parts: Vec<&str> = local.split(['.', '_', '-']).collect();
    if !(2..=3).contains(&parts.len())
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.chars().all(char::is_alphabetic))
        // The last part is the surname: "jordan.w" says too little.
        || parts.last().is_some_and(|p| p.chars().count() < 2)
        || parts.iter().all(|p| p.chars().count() < 2)
    {
        return None;
    }
    let words: Vec<String> = parts
        .iter()
        .map(|p| {
            if p.chars().count() == 1 {
                format!("{}.", p.to_uppercase())
            } else {
                p.to_string()
            }
        })
        .collect();
    let name = recase(&words.join(" "));
    (!is_role_name(&name)).then_some(DisplayName(name))
}

fn local_part(address: &str) -> Option<&str> {
    address.trim().rsplit_once('@').map(|(l, _)| l)
}

/// Words that make a display name an organisation's or a role's wherever they appear
/// ("Sales Team", "Accounts Payable", "Acme, Inc.", "Customer Support").
const ORGANISATION_WORDS: &[&str] = &[
    "team",
    "support",
    "helpdesk",
    "desk",
    "department",
    "dept",
    "payable",
    "receivable",
    "notification",
    "notifications",
    "noreply",
    "no-reply",
    "newsletter",
    "inc",
    "llc",
    "ltd",
    "gmbh",
    "plc",
    "corp",
    "corporation",
    "limited",
    "committee",
];

/// Words that name a role when the whole name is made of them ("Sales", "Billing",
/// "Customer Care", "Accounts"), but may be a surname beside a given name ("Carlos
/// Sales").
const ROLE_WORDS: &[&str] = &[
    "accounts",
    "accounting",
    "admin",
    "administration",
    "billing",
    "bookings",
    "care",
    "careers",
    "contact",
    "customer",
    "customers",
    "enquiries",
    "feedback",
    "finance",
    "hello",
    "help",
    "hr",
    "info",
    "information",
    "inquiries",
    "invoices",
    "it",
    "jobs",
    "legal",
    "marketing",
    "media",
    "office",
    "operations",
    "orders",
    "payroll",
    "press",
    "privacy",
    "reception",
    "recruiting",
    "reservations",
    "sales",
    "security",
    "service",
    "services",
    "webmaster",
    "the",
    "and",
    "&",
    "of",
];

/// Whether a display name names a role, a team or an organisation rather than a person
/// ("Sales Team", "Acme, Inc."; a note in brackets does not count: "Jane Doe (Support
/// Team)" is Jane).
pub fn is_role_name(raw: &str) -> bool {
    made_of_role_words(&bare_name(raw))
}

fn made_of_role_words(raw: &str) -> bool {
    let words: Vec<String> = raw
        .split(|c: char| c.is_whitespace() || c == ',' || c == '/')
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric() && c != '&' && c != '-')
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect();
    !words.is_empty()
        && (words
            .iter()
            .any(|w| ORGANISATION_WORDS.contains(&w.as_str()))
            || words
                .iter()
                .all(|w| ROLE_WORDS.contains(&w.as_str()) || ROLE_ACCOUNTS.contains(&w.as_str())))
}

/// Suffixes mail services append to the real sender's name
/// ("Jane Doe via LinkedIn", "Jane Doe (via Google Docs)").
const VIA_MARKERS: [&str; 3] = [" via ", " (via ", " through "];

/// Clean a decoded display name. Returns `None` when nothing person-like is
/// left (empty, only an address, only punctuation, a role or company name).
pub fn clean_display_name(raw: &str) -> Option<DisplayName> {
    let s = bare_name(raw);
    if !s.chars().any(char::is_alphabetic) || made_of_role_words(&s) {
        return None;
    }
    Some(DisplayName(normalize_case(&swap_last_first(&s))))
}

/// The display name without quotes, addresses, a "via …" suffix and bracketed notes.
fn bare_name(raw: &str) -> String {
    // Undecoded quoted-printable tabs and spaces ("=09Sager, Elizabeth =20")
    // that some forwarders leave in header lines.
    let mut s = raw
        .replace("=09", " ")
        .replace("=20", " ")
        .trim()
        .to_string();
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
    s.trim_matches(|c: char| c == ',' || c == ';' || c == '-' || c == '\'' || c == '"')
        .trim()
        .to_string()
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
/// parts, so "Smith, Jones & Co" or "Doe, Jr." are not reordered.
fn swap_last_first(s: &str) -> String {
    // cc:Mail and some directories write "Last; First".
    let parts: Vec<&str> = s.split([',', ';']).map(str::trim).collect();
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
    if namey(last) && namey(first) && credential(first).is_none() {
        format!("{first} {last}")
    } else {
        s.to_string()
    }
}

/// Suffixes and credentials as they are written ("PHD" -> "PhD"); matched without dots.
pub(crate) fn credential(word: &str) -> Option<&'static str> {
    let key: String = word
        .chars()
        .filter(|c| c.is_alphabetic())
        .flat_map(char::to_lowercase)
        .collect();
    Some(match key.as_str() {
        "jr" => "Jr.",
        "sr" => "Sr.",
        "ii" => "II",
        "iii" => "III",
        "iv" => "IV",
        "phd" => "PhD",
        "md" => "MD",
        "mba" => "MBA",
        "cpa" => "CPA",
        "cfa" => "CFA",
        "esq" => "Esq.",
        "jd" => "JD",
        "dds" => "DDS",
        "rn" => "RN",
        "pe" => "PE",
        "pmp" => "PMP",
        _ => return None,
    })
}

/// Surname particles written in lower case inside a name ("Jan van der Berg",
/// "Charles de Gaulle").
const PARTICLES: &[&str] = &[
    "van", "von", "der", "den", "de", "del", "da", "dos", "das", "du", "ter", "ten", "y",
];

/// Re-cases names written in one case and all-caps surnames: "JORDAN WHITLOCK" and
/// "jordan whitlock" -> "Jordan Whitlock", "Jean DUPONT" -> "Jean Dupont", "DUPONT Jean"
/// -> "Jean Dupont" (the capitals mark the surname). Mixed case is otherwise kept as
/// written because it is usually deliberate ("McDonald", "van der Berg", "DeShawn");
/// scripts without case (CJK, Arabic) are kept as they are.
fn normalize_case(s: &str) -> String {
    let cased: Vec<char> = s
        .chars()
        .filter(|c| c.is_uppercase() || c.is_lowercase())
        .collect();
    if cased.len() < 2 {
        return s.to_string();
    }
    let one_case = cased.iter().all(|c| c.is_uppercase()) || cased.iter().all(|c| c.is_lowercase());
    if one_case {
        return recase(s);
    }
    let words: Vec<&str> = s.split(' ').collect();
    let shouted = |w: &str| {
        let letters: Vec<char> = w.chars().filter(|c| c.is_alphabetic()).collect();
        letters.len() >= 2
            && letters.iter().all(|c| c.is_uppercase())
            && credential(w).is_none()
            && has_vowel(w)
    };
    let lead = words.iter().take_while(|w| shouted(w)).count();
    let recased: Vec<String> = words
        .iter()
        .map(|w| {
            if shouted(w) {
                recase_word(w, false)
            } else {
                (*w).to_string()
            }
        })
        .collect();
    // "DUPONT Jean": a capitalised surname first, the given name(s) after it.
    if lead > 0 && lead < words.len() && words[lead..].iter().all(|w| !shouted(w)) {
        let (surname, given) = recased.split_at(lead);
        return [given, surname].concat().join(" ");
    }
    recased.join(" ")
}

/// Re-cases a name written in one case, word by word.
fn recase(s: &str) -> String {
    s.split(' ')
        .enumerate()
        .map(|(i, w)| recase_word(w, i == 0))
        .collect::<Vec<_>>()
        .join(" ")
}

fn recase_word(w: &str, first: bool) -> String {
    if let Some(c) = credential(w).filter(|_| !first) {
        return c.to_string();
    }
    let lower = w.to_lowercase();
    if !first && PARTICLES.contains(&lower.as_str()) {
        return lower;
    }
    let letters = w.chars().filter(|c| c.is_alphabetic()).count();
    // "JW", "TJ": initials without a vowel stay capitals.
    if (2..=3).contains(&letters) && !has_vowel(w) && w.chars().all(|c| c.is_alphabetic()) {
        return w.to_uppercase();
    }
    let titled = title_word(w);
    // "MCDONALD" -> "McDonald".
    match titled.strip_prefix("Mc") {
        Some(rest) if rest.chars().count() >= 2 => format!("Mc{}", title_word(rest)),
        _ => titled,
    }
}

fn has_vowel(w: &str) -> bool {
    use unicode_normalization::UnicodeNormalization;
    w.nfd()
        .any(|c| matches!(c.to_ascii_lowercase(), 'a' | 'e' | 'i' | 'o' | 'u' | 'y'))
        || !w.is_ascii()
}

/// Title-case one word, also after hyphens and apostrophes ("o'neil-smith"
/// -> "O'Neil-Smith"). Each part is lower-cased as a string so a Greek final sigma
/// comes out right ("ΓΙΏΡΓΟΣ" -> "Γιώργος").
fn title_word(w: &str) -> String {
    let mut out = String::with_capacity(w.len());
    for part in w.split_inclusive(['-', '\'', '’']) {
        let mut chars = part.chars();
        if let Some(c) = chars.next() {
            out.extend(c.to_uppercase());
            out.push_str(&chars.as_str().to_lowercase());
        }
    }
    out
}

/// "JW", "J.W.", "JWH": initials written as one word.
fn is_initials(w: &str) -> bool {
    let letters: Vec<char> = w.chars().filter(|c| c.is_alphabetic()).collect();
    (2..=3).contains(&letters.len())
        && letters.iter().all(|c| c.is_uppercase())
        && (w.contains('.') || !has_vowel(w))
}

/// Scripts that write a full name without spaces (Han, Kana, Hangul).
fn unspaced_script(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(s: &str) -> Option<String> {
        clean_display_name(s).map(|n| n.as_str().to_string())
    }

    fn name(s: &str) -> DisplayName {
        clean_display_name(s).expect("a name")
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
            clean("\"Whitlock, Jordan\" <jw@x.com>"),
            Some("Jordan Whitlock".into())
        );
        assert_eq!(
            clean("\"Valdez, Christina M.\""),
            Some("Christina M. Valdez".into())
        );
        assert_eq!(clean("WHITLOCK, JORDAN"), Some("Jordan Whitlock".into()));
        assert_eq!(clean("Doe, Jr."), Some("Doe, Jr.".into()));
        // cc:Mail's "Last; First", and quoted-printable escapes left in a header.
        assert_eq!(
            clean("\"Vavrek; Carolyn (US - San Francisco)\""),
            Some("Carolyn Vavrek".into())
        );
        assert_eq!(
            clean("=09Sager, Elizabeth =20"),
            Some("Elizabeth Sager".into())
        );
    }

    #[test]
    fn role_and_company_names_are_not_people() {
        for raw in [
            "Acme, Inc.",
            "\"Acme, Inc.\" <hello@acme.com>",
            "Sales Team",
            "The Acme Team",
            "Accounts Payable",
            "Customer Support",
            "Support",
            "Info",
            "IT Help Desk",
            "Billing",
            "Acme Widgets Ltd",
            "Globex GmbH",
        ] {
            assert_eq!(clean(raw), None, "{raw}");
            assert!(is_role_name(raw), "{raw}");
        }
        // A surname that is also a role word, beside a given name, is a person.
        assert_eq!(clean("Carlos Sales"), Some("Carlos Sales".into()));
        assert_eq!(clean("Jane Info-Smith"), Some("Jane Info-Smith".into()));
        assert!(!is_role_name("Jane Doe (Support Team)"));
        assert!(!is_role_name("Jane Doe via Acme Support"));
        assert!(!is_role_name("Jordan Whitlock"));
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
    fn all_caps_and_lower_case_names_are_re_cased() {
        assert_eq!(clean("JORDAN WHITLOCK"), Some("Jordan Whitlock".into()));
        assert_eq!(clean("jordan whitlock"), Some("Jordan Whitlock".into()));
        assert_eq!(clean("JANE O'NEIL-SMITH"), Some("Jane O'Neil-Smith".into()));
        assert_eq!(clean("RONALD MCDONALD"), Some("Ronald McDonald".into()));
        assert_eq!(clean("JAN VAN DER BERG"), Some("Jan van der Berg".into()));
        assert_eq!(clean("charles de gaulle"), Some("Charles de Gaulle".into()));
        assert_eq!(clean("TJ MILLER"), Some("TJ Miller".into()));
        assert_eq!(
            clean("JORDAN WHITLOCK PHD"),
            Some("Jordan Whitlock PhD".into())
        );
        assert_eq!(
            clean("JORDAN WHITLOCK III"),
            Some("Jordan Whitlock III".into())
        );
    }

    #[test]
    fn mixed_case_is_kept_except_a_shouted_surname() {
        assert_eq!(clean("Ronald McDonald"), Some("Ronald McDonald".into()));
        assert_eq!(clean("Shaun O'Neil"), Some("Shaun O'Neil".into()));
        assert_eq!(clean("Jan van der Berg"), Some("Jan van der Berg".into()));
        assert_eq!(clean("DeShawn Jones"), Some("DeShawn Jones".into()));
        assert_eq!(
            clean("Jordan Whitlock MBA"),
            Some("Jordan Whitlock MBA".into())
        );
        assert_eq!(clean("Jean DUPONT"), Some("Jean Dupont".into()));
        assert_eq!(clean("DUPONT Jean"), Some("Jean Dupont".into()));
        assert_eq!(clean("VAN DER BERG Jan"), Some("Jan van der Berg".into()));
    }

    #[test]
    fn non_latin_scripts_are_kept_as_written() {
        assert_eq!(clean("Müller, Jürgen"), Some("Jürgen Müller".into()));
        assert_eq!(clean("ÉLODIE LEFÈVRE"), Some("Élodie Lefèvre".into()));
        assert_eq!(clean("山田 太郎"), Some("山田 太郎".into()));
        assert_eq!(clean("山田太郎"), Some("山田太郎".into()));
        assert_eq!(clean("김민준"), Some("김민준".into()));
        assert_eq!(clean("محمد علي"), Some("محمد علي".into()));
        assert_eq!(clean("Иван Петров"), Some("Иван Петров".into()));
        // Scripts with case follow the case rules.
        assert_eq!(clean("ИВАН ПЕТРОВ"), Some("Иван Петров".into()));
        assert_eq!(clean("Петров, Иван"), Some("Иван Петров".into()));
        assert_eq!(
            clean("ΓΙΏΡΓΟΣ ΠΑΠΑΔΌΠΟΥΛΟΣ"),
            Some("Γιώργος Παπαδόπουλος".into())
        );
        assert_eq!(name("山田太郎").quality(), NameQuality::FullName);
        assert_eq!(name("김민준").quality(), NameQuality::FullName);
        assert_eq!(name("Иван").quality(), NameQuality::SingleToken);
    }

    #[test]
    fn quality_ranks_initials_below_names() {
        assert_eq!(name("JW").quality(), NameQuality::Initials);
        assert_eq!(name("J. W.").quality(), NameQuality::Initials);
        assert_eq!(name("Jordan").quality(), NameQuality::SingleToken);
        assert_eq!(name("J. Whitlock").quality(), NameQuality::Initialed);
        assert_eq!(name("Jordan W.").quality(), NameQuality::Initialed);
        assert_eq!(name("Jordan Whitlock").quality(), NameQuality::FullName);
        assert_eq!(name("Jordan M. Whitlock").quality(), NameQuality::FullName);
        assert_eq!(name("Jo").quality(), NameQuality::SingleToken);
    }

    #[test]
    fn local_parts_spell_names_only_when_split() {
        let n = |a: &str| name_from_address(a).map(|n| n.as_str().to_owned());
        assert_eq!(n("jordan.whitlock@x.com"), Some("Jordan Whitlock".into()));
        assert_eq!(n("jordan_whitlock42@x.com"), Some("Jordan Whitlock".into()));
        assert_eq!(n("j.whitlock@x.com"), Some("J. Whitlock".into()));
        assert_eq!(n("jordan.van.berg@x.com"), Some("Jordan van Berg".into()));
        assert_eq!(n("jordan.w@x.com"), None);
        assert_eq!(n("jw@x.com"), None);
        assert_eq!(n("jwhitlock@x.com"), None);
        assert_eq!(n("jordan@x.com"), None);
        assert_eq!(n("sales.team@x.com"), None);
        assert_eq!(n("no-reply@x.com"), None);
        assert_eq!(n("accounts.payable@x.com"), None);
    }

    #[test]
    fn a_header_name_that_repeats_the_local_part_is_the_local_parts_name() {
        assert_eq!(header_name("jwhitlock", "jwhitlock@x.com"), None);
        assert_eq!(header_name("JW", "jw@x.com"), None);
        assert_eq!(
            header_name("jordan.whitlock", "jordan.whitlock@x.com"),
            Some((name("Jordan Whitlock"), NameSource::Address))
        );
        assert_eq!(
            header_name("\"Whitlock, Jordan\"", "jw@x.com"),
            Some((name("Jordan Whitlock"), NameSource::Header))
        );
        assert_eq!(header_name("jw@x.com", "jw@x.com"), None);
        // A name that happens to be what the address spells is still a written name.
        assert_eq!(
            header_name("Yara O'Brien", "yara_obrien@x.com"),
            Some((name("Yara O'Brien"), NameSource::Header))
        );
        assert_eq!(
            header_name("Jordan Whitlock", "jordan.whitlock@x.com"),
            Some((name("Jordan Whitlock"), NameSource::Header))
        );
    }

    #[test]
    fn the_most_complete_trusted_name_wins() {
        use NameSource::*;
        let best = |c: &[(&str, NameSource)]| {
            choose_name(c.iter().map(|(n, s)| (name(n), *s))).map(|(n, s)| (n.0, s))
        };
        // Completeness first, whoever wrote it.
        assert_eq!(
            best(&[("Jordan", Signature), ("Jordan Whitlock", Header)]),
            Some(("Jordan Whitlock".into(), Header))
        );
        assert_eq!(
            best(&[("J. Whitlock", Signature), ("Jordan Whitlock", Header)]),
            Some(("Jordan Whitlock".into(), Header))
        );
        assert_eq!(
            best(&[("JW", Header), ("Jordan", Address)]),
            Some(("Jordan".into(), Address))
        );
        // Then the source: a person's own signature over a client's header over the address.
        assert_eq!(
            best(&[
                ("Jordan Whitlock", Address),
                ("Jordan Whitlocke", Header),
                ("Jordan Whitlock", Signature)
            ]),
            Some(("Jordan Whitlock".into(), Signature))
        );
        // Then more words; ties keep the first.
        assert_eq!(
            best(&[("Jordan Whitlock", Header), ("Jordan M. Whitlock", Header)]),
            Some(("Jordan M. Whitlock".into(), Header))
        );
        assert_eq!(
            best(&[("Jordan Whitlock", Header), ("Jordan Whitlocke", Header)]),
            Some(("Jordan Whitlock".into(), Header))
        );
        assert_eq!(best(&[]), None);
    }

    #[test]
    fn a_chosen_casing_beats_a_re_casing_of_the_same_name() {
        use NameSource::*;
        let recased = name("RONALD MACDONALD");
        let written = name("Ronald MacDonald");
        assert_eq!(recased.as_str(), "Ronald Macdonald");
        assert_eq!(
            compare_names(&written, Header, &recased, Signature),
            Ordering::Greater
        );
        assert_eq!(
            compare_names(&recased, Signature, &written, Header),
            Ordering::Less
        );
        assert_eq!(
            compare_names(&written, Header, &written, Header),
            Ordering::Equal
        );
    }
}
