//! Phone-number finding and E.164 normalisation.
//!
//! Numbers in signatures are usually written in national format, so the
//! region used to interpret them matters. Numbers written with `+CC` need none;
//! for the others, hints are tried in order of reliability: a country or city
//! the signature names, the country of its `+CC` numbers, the sender's ccTLD,
//! the country of the company's legal form, then the caller's default region.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use phonenumber::metadata::DATABASE;
use phonenumber::{Mode, PhoneNumber, country};
use regex::Regex;

/// A validated phone number in E.164 form (`+14155550123`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct E164Phone(String);

impl E164Phone {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for E164Phone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a labelled number is for; fax and pager numbers are kept apart so
/// a CRM never offers them as "call" targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneKind {
    Phone,
    Mobile,
    Home,
    Fax,
    Pager,
}

/// A phone-like substring of a line, before validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneCandidate {
    pub raw: String,
    /// Byte range within the scanned line.
    pub start: usize,
    pub end: usize,
    pub kind: PhoneKind,
    /// A label ("Tel:", "Mobile", "fax") names it a phone number.
    pub labelled: bool,
}

impl PhoneCandidate {
    /// The number in E.164: a labelled one needs only the shape of its country's
    /// numbers ([`Evidence::Labelled`]), a bare one full validity.
    pub fn parse(&self, hints: &RegionHints) -> Option<E164Phone> {
        let evidence = if self.labelled {
            Evidence::Labelled
        } else {
            Evidence::Bare
        };
        parse_phone_as(&self.raw, hints, evidence)
    }
}

/// How sure the text around a digit run is that it is a phone number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence {
    /// Nothing says so: the number must be valid (a range the numbering plan has
    /// assigned), so dates and references that look like numbers are dropped.
    Bare,
    /// A label says so: a number of the right length and leading digits for its
    /// country is taken even where the library's ranges do not list it (ranges newer
    /// than its metadata, or ranges set aside, like the UK's 07700 900xxx).
    Labelled,
}

/// Ordered region hints (ISO 3166 alpha-2). Explicit `+CC` numbers ignore
/// them; national numbers try each region in order and keep the first that
/// validates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegionHints {
    /// A place the signature names.
    pub signature_region: Option<String>,
    /// The country of the signature's numbers written with their country code.
    pub number_region: Option<String>,
    /// The sender address's country-code domain.
    pub email_region: Option<String>,
    /// The country the signature's company's legal form belongs to ("Ltd", "GmbH").
    pub legal_form_region: Option<String>,
    pub default_region: Option<String>,
}

impl RegionHints {
    fn ordered(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for r in [
            &self.signature_region,
            &self.number_region,
            &self.email_region,
            &self.legal_form_region,
            &self.default_region,
        ]
        .into_iter()
        .flatten()
        {
            if !out.contains(&r.as_str()) {
                out.push(r);
            }
        }
        out
    }
}

/// Normalise one raw number to E.164, or `None` if it does not validate in
/// any hinted region (so dates and reference numbers that slipped through
/// the scanner are dropped here).
pub fn parse_phone(raw: &str, hints: &RegionHints) -> Option<E164Phone> {
    parse_phone_as(raw, hints, Evidence::Bare)
}

/// [`parse_phone`] with what the text says of the number: every hinted region is
/// tried for a valid number before any is tried for a merely plausible one.
pub fn parse_phone_as(raw: &str, hints: &RegionHints, evidence: Evidence) -> Option<E164Phone> {
    let cleaned = raw.replace("(0)", " ");
    let cleaned = cleaned.trim();
    let international = cleaned.starts_with('+') || cleaned.starts_with("00");
    let checks: &[fn(&PhoneNumber) -> bool] = match evidence {
        Evidence::Bare => &[phonenumber::is_valid],
        Evidence::Labelled => &[phonenumber::is_valid, plausible],
    };
    if international {
        let intl = cleaned
            .strip_prefix("00")
            .map_or_else(|| cleaned.to_string(), |r| format!("+{r}"));
        return checks
            .iter()
            .find_map(|check| accepted(None, &intl, *check));
    }
    let regions = hints.ordered();
    checks.iter().find_map(|check| {
        regions
            .iter()
            .find_map(|r| accepted(r.parse::<country::Id>().ok(), cleaned, *check))
    })
}

fn accepted(
    region: Option<country::Id>,
    s: &str,
    check: fn(&PhoneNumber) -> bool,
) -> Option<E164Phone> {
    let n = phonenumber::parse(region, s).ok()?;
    check(&n).then(|| E164Phone(n.format().mode(Mode::E164).to_string()))
}

/// A number its country's numbering plan describes as a whole (the general pattern
/// every one of its numbers matches), whether or not the range is assigned.
fn plausible(n: &PhoneNumber) -> bool {
    let national = n.national().to_string();
    let code = n.code().value();
    let mut patterns = GENERAL_PATTERNS.lock().unwrap_or_else(|e| e.into_inner());
    patterns
        .entry(code)
        .or_insert_with(|| general_patterns(code))
        .iter()
        .any(|whole| whole.is_match(&national))
}

/// The general patterns of each country calling code, compiled once when first needed.
static GENERAL_PATTERNS: LazyLock<Mutex<HashMap<u16, Vec<Regex>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The general patterns of the countries sharing `code`, anchored: the metadata's are
/// laid out with whitespace and matched from the start only, so a longer digit run
/// would pass on its prefix.
fn general_patterns(code: u16) -> Vec<Regex> {
    DATABASE
        .by_code(&code)
        .unwrap_or_default()
        .iter()
        .filter_map(|m| {
            let pattern: String = m
                .descriptors()
                .general()
                .national_number()
                .as_str()
                .split_whitespace()
                .collect();
            Regex::new(&format!("^(?:{pattern})$")).ok()
        })
        .collect()
}

/// The region of a number written with its country code ("GB" for +44 20 ...).
pub fn region_of(number: &E164Phone) -> Option<String> {
    let n = phonenumber::parse(None, number.as_str()).ok()?;
    if let Some(id) = n.country().id() {
        return Some(id.as_ref().to_owned());
    }
    // A plausible number outside the assigned ranges: its code's main country.
    let metas = DATABASE.by_code(&n.code().value())?;
    metas
        .iter()
        .find(|m| m.is_main_country_for_code())
        .or_else(|| metas.first())
        .map(|m| m.id().to_owned())
}

/// Digit groups joined by single separators; two or more spaces end a
/// number so multi-column signatures do not merge neighbouring numbers.
static CANDIDATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\+?\s?\(?\d+\)?(?:(?:\s?[.\-–/]\s?|\s)?\(?\d+\)?)*").expect("valid regex")
});
static DATE_LIKE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\d{1,4}\s?[/.\-]\s?\d{1,2}\s?[/.\-]\s?\d{2,4}$").expect("valid regex")
});
static LABEL_BEFORE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:^|[^a-z])(facsimile|fax|fx|f|mobile|mob|cellular|cell|cel|c|m|handy|portable|pager|beeper|p|home|h|telephone|tel|phone|ph|t|office|direct|dir|work|w|o|d|main)\s*(?:number|no\.?|#)?\s*[.:\-]?\s*(?:\((?:o|w|m|c|f)\)\s*)?$")
        .expect("valid regex")
});
static LABEL_AFTER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*[\(\[-]?\s*(facsimile|fax|fx|fa|mobile|mob|cell|cel|pager|home|telephone|tel|phone|ph|office|direct|work|wireless)\b")
        .expect("valid regex")
});
/// A fax label a few words before the number.
static FAX_WORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b(?:facsimile|fax)\b").expect("valid regex"));
/// A number, a slash and four digits that replace its last four.
static ALTERNATE_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(.*\d)\s?/\s?\d{4}$").expect("valid regex"));
/// Words that make a digit run a reference, amount or date, not a phone.
static NOT_PHONE_BEFORE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(order|invoice|inv|ref|reference|account|acct|ticket|case|po|id|no|zip|postcode|isbn|tracking|confirmation|deal|contract|#|\$|€|£|usd|eur)\s*[.:#]?\s*$")
        .expect("valid regex")
});

fn kind_from_label(label: &str, single_letter_ok: bool) -> Option<PhoneKind> {
    let l = label.to_ascii_lowercase();
    if l.len() == 1 && !single_letter_ok {
        return None;
    }
    Some(match l.as_str() {
        "facsimile" | "fax" | "fx" | "f" | "fa" => PhoneKind::Fax,
        "mobile" | "mob" | "cellular" | "cell" | "cel" | "c" | "m" | "handy" | "portable"
        | "wireless" => PhoneKind::Mobile,
        "pager" | "beeper" | "p" => PhoneKind::Pager,
        "home" | "h" => PhoneKind::Home,
        _ => PhoneKind::Phone,
    })
}

/// Find phone-like numbers in one line with their label. Rejects dates,
/// money, times and reference numbers; digit count must be 7..=15 (E.164
/// maximum) so short extensions and zip codes never qualify.
pub fn find_phone_candidates(line: &str) -> Vec<PhoneCandidate> {
    let mut out = Vec::new();
    let mut prev_end = 0;
    for m in CANDIDATE.find_iter(line) {
        let raw = m
            .as_str()
            .trim()
            .trim_end_matches(['.', '-', '/'])
            .trim_start_matches(['.', '-']);
        // "(646) 836-2011/0609": a second line's last four digits after a slash.
        let raw = ALTERNATE_LINE
            .captures(raw)
            .filter(|c| c[1].chars().filter(char::is_ascii_digit).count() >= 10)
            .map_or(raw, |c| c.get(1).map_or(raw, |first| first.as_str()));
        let lead = m.as_str().len() - m.as_str().trim_start().len();
        let start = m.start() + lead;
        let end = start + raw.len();
        let digits = raw.chars().filter(char::is_ascii_digit).count();
        let before = &line[prev_end.min(start)..start];
        prev_end = end;
        let glued_to_word = line[..start]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric())
            || line[end..]
                .chars()
                .next()
                .is_some_and(|c| c.is_alphanumeric() || c == '%');
        let unbalanced =
            raw.matches('(').count() != raw.matches(')').count() && !raw.starts_with('(');
        if !(7..=15).contains(&digits)
            || DATE_LIKE.is_match(raw)
            || glued_to_word
            || unbalanced
            || (NOT_PHONE_BEFORE.is_match(before) && !LABEL_BEFORE.is_match(before))
            || is_time_range(raw)
        {
            continue;
        }
        let after = &line[end..];
        let label = LABEL_BEFORE
            .captures(before)
            .and_then(|c| {
                kind_from_label(
                    &c[1],
                    before.trim_end().ends_with([':', '.', ')']) || before.trim().len() == 1,
                )
            })
            .or_else(|| {
                LABEL_AFTER
                    .captures(after)
                    .and_then(|c| kind_from_label(&c[1], false))
            })
            .or_else(|| {
                // "Facsimile Transmission No.: (630) 717-4594"
                (before.trim().len() <= 40 && FAX_WORD.is_match(before)).then_some(PhoneKind::Fax)
            });
        out.push(PhoneCandidate {
            raw: raw.to_string(),
            start,
            end,
            kind: label.unwrap_or(PhoneKind::Phone),
            labelled: label.is_some(),
        });
    }
    out
}

/// "9:00-17:30" style strings are caught by the digit filter, but "0900 -
/// 1730" hours are not; reject two 4-digit groups that look like times.
fn is_time_range(raw: &str) -> bool {
    let groups: Vec<&str> = raw
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .collect();
    groups.len() == 2
        && groups.iter().all(|g| {
            g.len() == 4
                && g[..2].parse::<u32>().is_ok_and(|h| h < 24)
                && g[2..].parse::<u32>().is_ok_and(|m| m < 60)
        })
}

/// Country and city cues that pin a signature to a region, checked as
/// whole words, case-insensitive.
const PLACE_REGIONS: &[(&str, &str)] = &[
    ("united kingdom", "GB"),
    ("england", "GB"),
    ("scotland", "GB"),
    ("wales", "GB"),
    ("london", "GB"),
    ("manchester", "GB"),
    ("edinburgh", "GB"),
    ("germany", "DE"),
    ("deutschland", "DE"),
    ("berlin", "DE"),
    ("münchen", "DE"),
    ("munich", "DE"),
    ("hamburg", "DE"),
    ("frankfurt", "DE"),
    ("köln", "DE"),
    ("france", "FR"),
    ("paris", "FR"),
    ("lyon", "FR"),
    ("india", "IN"),
    ("mumbai", "IN"),
    ("bangalore", "IN"),
    ("bengaluru", "IN"),
    ("delhi", "IN"),
    ("hyderabad", "IN"),
    ("australia", "AU"),
    ("sydney", "AU"),
    ("melbourne", "AU"),
    ("brisbane", "AU"),
    ("brazil", "BR"),
    ("brasil", "BR"),
    ("são paulo", "BR"),
    ("sao paulo", "BR"),
    ("rio de janeiro", "BR"),
    ("canada", "CA"),
    ("toronto", "CA"),
    ("ireland", "IE"),
    ("dublin", "IE"),
    ("netherlands", "NL"),
    ("amsterdam", "NL"),
    ("spain", "ES"),
    ("madrid", "ES"),
    ("italy", "IT"),
    ("milano", "IT"),
    ("finland", "FI"),
    ("helsinki", "FI"),
    ("switzerland", "CH"),
    ("zürich", "CH"),
    ("zurich", "CH"),
    ("singapore", "SG"),
    ("japan", "JP"),
    ("tokyo", "JP"),
    ("united states", "US"),
    ("usa", "US"),
    ("u.s.a.", "US"),
];

/// "Houston, TX 77002" / "New York, NY 10001-1234": US state + ZIP.
static US_STATE_ZIP: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b[A-Z]{2}\.?\s{1,3}\d{5}(?:-\d{4})?\b").expect("valid regex"));

/// Region named in free text (a signature), if exactly one is evident.
pub fn region_from_text(text: &str) -> Option<&'static str> {
    let lower = text.to_lowercase();
    let mut found: Option<&'static str> = None;
    for (needle, region) in PLACE_REGIONS {
        let hit = lower.match_indices(needle).any(|(i, _)| {
            let before_ok = lower[..i]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric());
            let after_ok = lower[i + needle.len()..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_alphanumeric());
            before_ok && after_ok
        });
        if hit {
            match found {
                Some(r) if r != *region => return None,
                _ => found = Some(region),
            }
        }
    }
    if found.is_none() && US_STATE_ZIP.is_match(text) {
        return Some("US");
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hints(default: &str) -> RegionHints {
        RegionHints {
            default_region: Some(default.into()),
            ..Default::default()
        }
    }

    fn e164(raw: &str, default: &str) -> Option<String> {
        parse_phone(raw, &hints(default)).map(|p| p.as_str().to_string())
    }

    #[test]
    fn international_numbers() {
        assert_eq!(
            e164("+1 (415) 555-2671", "DE").as_deref(),
            Some("+14155552671")
        );
        assert_eq!(
            e164("+44 (0)20 7946 0958", "US").as_deref(),
            Some("+442079460958")
        );
        assert_eq!(e164("+49 30 901820", "US").as_deref(), Some("+4930901820"));
        assert_eq!(
            e164("0049 89 1234567", "US").as_deref(),
            Some("+49891234567")
        );
        assert_eq!(
            e164("+33 1 42 68 53 00", "US").as_deref(),
            Some("+33142685300")
        );
        assert_eq!(
            e164("+91 98200 12345", "US").as_deref(),
            Some("+919820012345")
        );
        assert_eq!(
            e164("+61 2 9374 4000", "US").as_deref(),
            Some("+61293744000")
        );
        assert_eq!(
            e164("+55 11 98765-4321", "US").as_deref(),
            Some("+5511987654321")
        );
    }

    #[test]
    fn national_numbers_use_hints_in_order() {
        assert_eq!(
            e164("(415) 555-2671", "US").as_deref(),
            Some("+14155552671")
        );
        assert_eq!(
            e164("020 7946 0958", "GB").as_deref(),
            Some("+442079460958")
        );
        let h = RegionHints {
            signature_region: Some("FR".into()),
            email_region: Some("DE".into()),
            default_region: Some("US".into()),
            ..Default::default()
        };
        assert_eq!(
            parse_phone("01 42 68 53 00", &h).unwrap().as_str(),
            "+33142685300"
        );
        let h = RegionHints {
            email_region: Some("DE".into()),
            default_region: Some("US".into()),
            ..Default::default()
        };
        assert_eq!(
            parse_phone("030 901820", &h).unwrap().as_str(),
            "+4930901820"
        );
        assert_eq!(e164("02 9374 4000", "AU").as_deref(), Some("+61293744000"));
        assert_eq!(e164("098200 12345", "IN").as_deref(), Some("+919820012345"));
    }

    #[test]
    fn a_label_admits_numbers_outside_the_assigned_ranges() {
        let labelled = |raw: &str, default: &str| {
            find_phone_candidates(raw)
                .first()
                .and_then(|c| c.parse(&hints(default)))
                .map(|p| p.as_str().to_owned())
        };
        // Ofcom's drama range: the right shape for a UK mobile, never assigned.
        assert_eq!(e164("+44 7700 900536", "US"), None);
        assert_eq!(
            labelled("Cell: +44 7700 900536", "US").as_deref(),
            Some("+447700900536")
        );
        assert_eq!(
            labelled("Mob: 07700 900404", "GB").as_deref(),
            Some("+447700900404")
        );
        assert_eq!(labelled("+44 7700 900536", "US"), None, "no label");
        // A label does not make a wrong length or a date a number.
        assert_eq!(labelled("Tel: +44 7700 9005", "US"), None);
        assert_eq!(labelled("Tel: 12345678901234", "US"), None);
        // National numbers try every hinted region.
        let h = RegionHints {
            email_region: Some("US".into()),
            default_region: Some("GB".into()),
            ..Default::default()
        };
        let c = &find_phone_candidates("Mobile: 07700 900404")[0];
        assert_eq!(c.parse(&h).unwrap().as_str(), "+447700900404");
    }

    #[test]
    fn the_region_of_an_international_number() {
        let region = |raw: &str| {
            find_phone_candidates(raw)
                .first()
                .and_then(|c| c.parse(&RegionHints::default()))
                .and_then(|p| region_of(&p))
        };
        assert_eq!(region("+44 20 7946 0958").as_deref(), Some("GB"));
        assert_eq!(region("Mob: +44 7700 900536").as_deref(), Some("GB"));
        assert_eq!(region("+61 491 570 313").as_deref(), Some("AU"));
        assert_eq!(region("+1 415 555 0107").as_deref(), Some("US"));
    }

    #[test]
    fn rejects_non_numbers() {
        assert_eq!(e164("12345", "US"), None);
        assert_eq!(e164("555-0000-999999", "US"), None);
    }

    fn kinds(line: &str) -> Vec<(String, PhoneKind)> {
        find_phone_candidates(line)
            .into_iter()
            .map(|c| (c.raw, c.kind))
            .collect()
    }

    #[test]
    fn labelled_candidates() {
        assert_eq!(
            kinds("T: +1 212 555 0100 | M: +1 917 555 0199"),
            [
                ("+1 212 555 0100".to_string(), PhoneKind::Phone),
                ("+1 917 555 0199".to_string(), PhoneKind::Mobile)
            ]
        );
        assert_eq!(
            kinds("Fax: (713) 555-0142"),
            [("(713) 555-0142".to_string(), PhoneKind::Fax)]
        );
        assert_eq!(
            kinds("713.555.0142 Facsimile"),
            [("713.555.0142".to_string(), PhoneKind::Fax)]
        );
        assert_eq!(
            kinds("Mobil/Handy: 0171 1234567"),
            [("0171 1234567".to_string(), PhoneKind::Mobile)]
        );
        assert_eq!(
            kinds("Direct    713-555-0142     Cell   281-555-0199").len(),
            2
        );
        assert_eq!(
            kinds("Facsimile Transmission No.: (630) 555-4594"),
            [("(630) 555-4594".to_string(), PhoneKind::Fax)]
        );
        assert_eq!(
            kinds("(646) 555-2011/0609 (fax)"),
            [("(646) 555-2011".to_string(), PhoneKind::Phone)]
        );
    }

    #[test]
    fn rejects_dates_money_and_refs() {
        assert!(kinds("Meeting on 12/05/2023 at 10:00").is_empty());
        assert!(kinds("Total: $1,250,000.00").is_empty());
        assert!(kinds("Order #4412398711 shipped").is_empty());
        assert!(kinds("Invoice no. 2023-118877").is_empty());
        assert!(kinds("Office hours 0900 - 1730").is_empty());
        assert!(kinds("Houston, TX 77002").is_empty());
        assert!(kinds("growth of 12345678%").is_empty());
    }

    #[test]
    fn regions_from_text() {
        assert_eq!(
            region_from_text("10 Downing St, London SW1A 2AA"),
            Some("GB")
        );
        assert_eq!(
            region_from_text("Friedrichstraße 1, 10117 Berlin, Germany"),
            Some("DE")
        );
        assert_eq!(
            region_from_text("1400 Smith St, Houston, TX 77002"),
            Some("US")
        );
        assert_eq!(region_from_text("Offices in Paris and London"), None);
        assert_eq!(region_from_text("Senior Counsel"), None);
    }
}
