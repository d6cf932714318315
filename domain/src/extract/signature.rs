//! Find the sender's signature block in their own text and pull contact
//! fields out of it.
//!
//! Precision comes first: a block is only reported when it carries at least
//! one contact fact besides a name, and a name is only taken when it agrees
//! with the sender's display name or address. A bare "Thanks, Jane" is a
//! sign-off, not a signature.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use crate::extract::address::{SenderKind, classify_sender};
use crate::extract::domains::{CompanyDomain, region_from_tld};
use crate::extract::lexicon::{
    closing, ends_with_role, has_legal_form, is_disclaimer, is_mobile_footer, is_webmail_ad,
    last_word, legal_form_region, looks_like_company, looks_like_title, starts_with_role,
};
use crate::extract::names::{clean_display_name, credential};
use crate::extract::phone::{
    E164Phone, PhoneKind, RegionHints, find_phone_candidates, region_from_text, region_of,
};
use model::{Model, Role};

/// What the pipeline knows about the sender from the headers.
#[derive(Debug, Clone, Copy, Default)]
pub struct SenderHint<'a> {
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    /// The user's locale region, last resort for national phone numbers.
    pub default_region: Option<&'a str>,
}

/// A value and the zero-based line (within the scanned text) it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub value: String,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignaturePhone {
    pub number: E164Phone,
    pub kind: PhoneKind,
    pub raw: String,
    pub line: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Signature {
    /// Lines of the scanned text that form the block.
    pub lines: Range<usize>,
    /// The name the block gives as its holder's.
    pub name: Option<Field>,
    /// The name the message was signed off with ("Thanks," / "Susan S. Bailey"
    /// right below it): the writer's name, but part of the closing rather than
    /// of the signature block (how the annotated mail tells them apart).
    pub signed_as: Option<Field>,
    pub title: Option<Field>,
    pub company: Option<Field>,
    /// All validated numbers; fax/pager are kept with their kind.
    pub phones: Vec<SignaturePhone>,
    pub emails: Vec<Field>,
    pub linkedin: Option<Field>,
    pub twitter: Option<Field>,
    pub websites: Vec<Field>,
}

impl Signature {
    /// The writer's name as the message gives it: the block's, else the sign-off's.
    pub fn writer_name(&self) -> Option<&Field> {
        self.name.as_ref().or(self.signed_as.as_ref())
    }

    fn has_contact_fact(&self) -> bool {
        fact_lines(self).next().is_some()
    }
}

/// Longest block considered; longer tails are prose, not signatures.
const MAX_BLOCK_LINES: usize = 12;

/// Extract the signature from the author's own text (quotes already
/// removed). Returns `None` when no block with contact facts is found.
pub fn extract_signature(text: &str, hint: &SenderHint) -> Option<Signature> {
    extract_signature_with(text, hint, &model::COMMITTED)
}

/// [`extract_signature`] with a given cell classifier (cross-validation
/// trains one per fold).
pub fn extract_signature_with(text: &str, hint: &SenderHint, model: &Model) -> Option<Signature> {
    let block = find_block(text, hint)?;
    let sig = block.signature(hint, model);
    sig.has_contact_fact().then_some(sig)
}

/// The name/title/company candidates of the signature block of `text`, each
/// with its features, for training the cell classifier.
pub fn candidate_cells(text: &str, hint: &SenderHint) -> Vec<Candidate> {
    find_block(text, hint).map_or_else(Vec::new, |b| b.candidates)
}

/// The block at the end of the text; failing one with contact facts there,
/// the block under the last `-- ` delimiter (a signature above a pasted
/// article or forwarded text).
fn find_block(text: &str, hint: &SenderHint) -> Option<Block> {
    let lines: Vec<&str> = text.lines().collect();
    let end = content_end(&lines);
    let tail = block_start(&lines, end, hint)
        .map(|start| scan(&lines, start..end.min(start + MAX_BLOCK_LINES), hint));
    if tail.as_ref().is_some_and(|b| b.sig.has_contact_fact()) {
        return tail;
    }
    delimited_block(&lines, end, hint)
        .filter(|b| b.sig.has_contact_fact())
        .or(tail)
}

/// The signature delimiter `-- `, or a dash alone on its line ("—").
fn is_delimiter(line: &str) -> bool {
    matches!(line.trim(), "--" | "\u{2014}" | "\u{2013}")
}

/// The lines under the last `--` delimiter, up to two blank lines in a row.
fn delimited_block(lines: &[&str], end: usize, hint: &SenderHint) -> Option<Block> {
    let delimiter = lines[..end].iter().rposition(|l| is_delimiter(l))?;
    let start = delimiter + 1;
    let limit = end.min(start + MAX_BLOCK_LINES);
    let stop = (start..limit)
        .find(|&i| i > start && lines[i].trim().is_empty() && lines[i - 1].trim().is_empty())
        .unwrap_or(limit);
    Some(scan(lines, start..stop, hint))
}

/// Index after the last line that can belong to a signature: trailing
/// blanks, mobile footers and disclaimer paragraphs are cut off.
fn content_end(lines: &[&str]) -> usize {
    let mut end = lines.len();
    let mut para_start = 0;
    for (i, l) in lines.iter().enumerate() {
        if l.trim().is_empty() {
            para_start = i + 1;
            continue;
        }
        let para_end = lines[i..]
            .iter()
            .position(|x| x.trim().is_empty())
            .map_or(lines.len(), |p| i + p);
        let footer =
            is_webmail_ad(l) || (i == para_start && is_disclaimer(&lines[i..para_end].join(" ")));
        if i > 0 && footer {
            end = i;
            break;
        }
    }
    while end > 0
        && (lines[end - 1].trim().is_empty()
            || is_mobile_footer(lines[end - 1])
            || is_rule(lines[end - 1])
            || ATTACHMENT.is_match(lines[end - 1].trim())
            || LOTUS_ATTACHMENT.is_match(lines[end - 1]))
    {
        end -= 1;
    }
    end
}

/// Lotus Notes lists attachments below the text as " - Name", one space
/// before the dash, the name often without an extension (" - Action Items").
static LOTUS_ATTACHMENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^ - \S[^\t]{0,80}$").expect("valid regex"));

/// A cell naming an attached document ("Name: BEA - nonsolicit language.doc").
static ATTACHED_FILE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\.(?:docx?|xlsx?|pptx?|pdf|rtf|txt|wpd|zip|html?|jpe?g|gif|png|tiff?)\b")
        .expect("valid regex")
});

/// Attachment stubs mail clients print below the text: " - report.pdf",
/// "<<Agreement.doc>>", "(See attached file: memo.doc)" (wrapped or not),
/// "<<...OLE_Obj...>>".
static ATTACHMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:- \S.*\.[a-z0-9]{2,4}|<<.*>>|\(see attached file:.*|file: .*\))$")
        .expect("valid regex")
});

fn is_rule(line: &str) -> bool {
    let t = line.trim();
    t.len() >= 2 && t.chars().all(|c| matches!(c, '-' | '_' | '=' | '*' | '~'))
}

/// Where the block starts, or `None` when the tail has no signature cue.
/// Cues, strongest first: a line with the sender's name; the line after a
/// closing or `--` delimiter; a trailing paragraph dense with contact data.
fn block_start(lines: &[&str], end: usize, hint: &SenderHint) -> Option<usize> {
    let window = end.saturating_sub(MAX_BLOCK_LINES + 3)..end;
    let name_line = window
        .clone()
        .rev()
        .find(|&i| is_sender_name_line(lines[i], hint));
    let cue_line = window
        .clone()
        .rev()
        .find(|&i| is_delimiter(lines[i]) || closing(lines[i]).is_some());
    match (name_line, cue_line) {
        (Some(n), Some(c)) if c >= n => Some(c + 1),
        (Some(n), _) => Some(n),
        (None, Some(c)) => Some(c + 1),
        (None, None) => ruled_section(lines, window).or_else(|| contact_dense_tail(lines, end)),
    }
}

/// The section after a rule line ("*****", "-----"): the lowest one holding a
/// phone number or address, so a ruled-off slogan or banner below the
/// signature ("FairAir is the world's only airline ticket exchange") is
/// passed over; else the section after the last rule.
fn ruled_section(lines: &[&str], window: Range<usize>) -> Option<usize> {
    let rules: Vec<usize> = window.clone().filter(|&i| is_rule(lines[i])).collect();
    let section_has_contact = |k: usize| {
        let end = rules.get(k + 1).copied().unwrap_or(window.end);
        lines[rules[k] + 1..end]
            .iter()
            .any(|l| !find_phone_candidates(l).is_empty() || EMAIL.is_match(l))
    };
    let last = *rules.last()?;
    let k = (0..rules.len()).rev().find(|&k| section_has_contact(k));
    Some(k.map_or(last, |k| rules[k]) + 1)
}

/// The last paragraph, when at least two of its lines hold a phone number,
/// address or URL and none is long prose.
fn contact_dense_tail(lines: &[&str], end: usize) -> Option<usize> {
    let start = lines[..end]
        .iter()
        .rposition(|l| l.trim().is_empty())
        .map_or(0, |p| p + 1);
    let para = &lines[start..end];
    let dense = para
        .iter()
        .filter(|l| !find_phone_candidates(l).is_empty() || EMAIL.is_match(l) || URL.is_match(l))
        .count();
    let prose = para.iter().any(|l| l.split_whitespace().count() > 12);
    // Many numbers means a phone list in the body, not one person's block.
    let numbers: usize = para.iter().map(|l| find_phone_candidates(l).len()).sum();
    // A short closing paragraph ending in a line that is only a number
    // ("gngr" / "713-853-7751") is a minimal signature.
    let bare_number = para.len() <= 3
        && para.last().is_some_and(|l| {
            find_phone_candidates(l)
                .first()
                .is_some_and(|c| l[..c.start].trim().len() <= 6 && l[c.end..].trim().len() <= 8)
        });
    if !((dense >= 2 || bare_number) && numbers <= 4 && !prose && para.len() <= MAX_BLOCK_LINES) {
        return None;
    }
    // Name, title and company often stand in their own paragraphs above the
    // numbers ("Joseph S. Fichera" / "Senior Managing Director & CEO" / "Saber
    // Partners, LLC", blank, "Tel: ..."): take the short-line paragraphs above.
    let mut top = start;
    while let Some(above_end) = lines[..top].iter().rposition(|l| !l.trim().is_empty()) {
        let above_start = lines[..above_end]
            .iter()
            .rposition(|l| l.trim().is_empty())
            .map_or(0, |p| p + 1);
        let short = lines[above_start..=above_end].iter().all(|l| {
            let t = l.trim();
            // "Sacramento, CA ?": a question mark after a space is a mangled
            // non-breaking space, not a question.
            let sentence_end = t.ends_with(['?', '!', ':']) && !t.ends_with(" ?");
            t.split_whitespace().count() <= 6
                && !reads_as_prose(t)
                && !sentence_end
                && closing(t).is_none()
        });
        if !short || end - above_start > MAX_BLOCK_LINES {
            break;
        }
        top = above_start;
    }
    Some(top)
}

/// Lowercase name tokens of the sender's display name.
fn name_tokens(hint: &SenderHint) -> Vec<String> {
    let from_name = hint.name.and_then(clean_display_name).map(|n| {
        n.as_str()
            .split_whitespace()
            .map(|t| t.trim_matches('.').to_lowercase())
            .filter(|t| t.len() >= 2)
            .collect::<Vec<_>>()
    });
    from_name.unwrap_or_default()
}

/// Without a display name, the parts of a `first.last` style local part
/// (`benjamin.rogers@`, `mary_cook@`): two or three letters-only parts.
fn address_name_tokens(hint: &SenderHint) -> Vec<String> {
    let Some((local, _)) = hint.email.and_then(|e| e.rsplit_once('@')) else {
        return Vec::new();
    };
    let parts: Vec<String> = local
        .split(['.', '_', '-'])
        .map(str::to_lowercase)
        .collect();
    let name_like = (2..=3).contains(&parts.len())
        && parts
            .iter()
            .all(|p| p.len() >= 2 && p.chars().all(|c| c.is_ascii_alphabetic()));
    if name_like { parts } else { Vec::new() }
}

/// A short line made of name-like words whose first token (or first and
/// last) matches the sender's name, e.g. "Jane", "Jane Doe", "Jane M. Doe",
/// "-- Jane". Without a display name, a line of two or more words matches
/// when the address spells it (see [`address_spells_name`]).
fn is_sender_name_line(line: &str, hint: &SenderHint) -> bool {
    let tokens = name_tokens(hint);
    let t = line.trim().trim_start_matches(['-', '–', '—', ' ']).trim();
    let words: Vec<String> = t
        .split_whitespace()
        .map(|w| w.trim_matches([',', '.']).to_lowercase())
        .collect();
    if words.is_empty()
        || words.len() > 5
        || t.chars().any(|c| c.is_ascii_digit() || c == '@')
        || !t.chars().next().is_some_and(char::is_uppercase)
    {
        return false;
    }
    if tokens.is_empty() {
        return words.len() >= 2
            && hint
                .email
                .is_some_and(|email| address_spells_name(email, &words));
    }
    let first_matches = tokens.iter().any(|tok| *tok == words[0]);
    let last_ok = words.len() == 1 || tokens.iter().any(|tok| words.last() == Some(tok));
    first_matches && last_ok
}

/// Whether an address's local part spells the name `words` (lower-cased): it holds
/// the last name and either the first name or starts with its initial, compared
/// without diacritics (`mdvorak@` for "Malik Dvořák", `sofia.mueller@` for "Sofia
/// Müller", `siennacastellano70@` for "Sienna Castellano").
pub(crate) fn address_spells_name(email: &str, words: &[String]) -> bool {
    let Some((local, _)) = email.rsplit_once('@') else {
        return false;
    };
    let letters: String = local
        .chars()
        .filter(char::is_ascii_alphabetic)
        .collect::<String>()
        .to_ascii_lowercase();
    let (Some(first), Some(last)) = (words.first(), words.last()) else {
        return false;
    };
    let contains = |word: &str| {
        fold_variants(word)
            .iter()
            .any(|v| v.len() >= 2 && letters.contains(v.as_str()))
    };
    let initial = fold_variants(first)
        .iter()
        .any(|v| v.chars().next().is_some_and(|c| letters.starts_with(c)));
    contains(last) && (contains(first) || initial)
}

/// ASCII spellings of a word: diacritics dropped (`müller` -> `muller`) and the
/// German transliteration (`müller` -> `mueller`); non-letters removed.
fn fold_variants(word: &str) -> [String; 2] {
    use unicode_normalization::UnicodeNormalization;
    let strip = |w: &str| -> String {
        w.nfd()
            .filter(char::is_ascii_alphabetic)
            .collect::<String>()
            .to_ascii_lowercase()
    };
    let german = word
        .replace('ä', "ae")
        .replace('ö', "oe")
        .replace('ü', "ue")
        .replace('ß', "ss");
    [strip(word), strip(&german)]
}

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
        .expect("valid regex")
});
static URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:https?://|www\.)[^\s<>()]+|\b(?:linkedin\.com|twitter\.com|x\.com)/[^\s<>()]+",
    )
    .expect("valid regex")
});
static TWITTER_HANDLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:twitter|x)\s*[:|]\s*@?([A-Za-z0-9_]{1,15})\b").expect("valid regex")
});
static HEADER_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(from|to|cc|bcc|subject|sent|date)\s*:").expect("valid regex")
});
static FORM_FIELD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([A-Za-z][A-Za-z ]{2,30}?)\s+:\s").expect("valid regex"));
const CONTACT_LABELS: &[&str] = &[
    "email", "e-mail", "mail", "phone", "tel", "fax", "mobile", "cell", "web", "title",
];
/// Cells of multi-column or one-line signatures: tabs, 3+ spaces, pipes, bullets.
static CELL_SPLIT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\t+|\s{3,}|\s[|•·]\s").expect("valid regex"));

/// A cell of the block that may be the name, title or company.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub text: String,
    pub line: usize,
    pub features: Vec<String>,
}

/// The block's lines scanned: contact facts already taken, the remaining
/// text cells waiting for the classifier.
struct Block {
    sig: Signature,
    candidates: Vec<Candidate>,
    /// The company name the sender's domain spells (see [`company_label`]).
    company_label: Option<String>,
}

/// What a block line holds, for the features of its neighbours.
#[derive(Debug, Clone, Copy, Default)]
struct LineFacts {
    blank: bool,
    contact: bool,
    closing: bool,
    person: bool,
    title: bool,
    company: bool,
}

fn scan(lines: &[&str], range: Range<usize>, hint: &SenderHint) -> Block {
    let block_text = lines[range.clone()].join("\n");
    let hints = RegionHints {
        signature_region: region_from_text(&block_text).map(str::to_string),
        number_region: international_region(&lines[range.clone()]),
        email_region: hint.email.and_then(region_from_tld).map(str::to_string),
        legal_form_region: lines[range.clone()]
            .iter()
            .filter(|l| looks_like_company(l))
            .find_map(|l| legal_form_region(l))
            .map(str::to_string),
        default_region: hint.default_region.map(str::to_string),
    };
    let company_label = company_label(hint);
    let tokens = match name_tokens(hint) {
        tokens if tokens.is_empty() => address_name_tokens(hint),
        tokens => tokens,
    };
    let mut sig = Signature {
        lines: range.clone(),
        ..Default::default()
    };
    // (line, cell index, text) of cells left after contact facts.
    let mut cells: Vec<(usize, usize, String)> = Vec::new();
    let mut facts = vec![LineFacts::default(); lines.len()];
    for i in range {
        let line = lines[i];
        // Header-like lines ("To:", "Subject:") mean a quoted block slipped in.
        if HEADER_LINE.is_match(line.trim()) {
            sig.lines.end = i;
            break;
        }
        facts[i].blank = line.trim().is_empty();
        facts[i].closing = closing(line).is_some();
        // "Request For : a@b.com" forms are system output, not a signature.
        if FORM_FIELD
            .captures(line.trim())
            .is_some_and(|c| !CONTACT_LABELS.contains(&c[1].trim().to_lowercase().as_str()))
        {
            continue;
        }
        let line = closing(line)
            .filter(|rest| !rest.is_empty())
            .unwrap_or(line);
        let before = sig.phones.len() + sig.emails.len() + sig.websites.len();
        let rest = take_phones(line, i, &hints, &mut sig);
        for (k, cell) in CELL_SPLIT.split(&rest).enumerate() {
            if let Some(text) = contact_cell(cell.trim(), i, &mut sig) {
                facts[i].person |= person_shape(&text);
                facts[i].title |= looks_like_title(&text);
                facts[i].company |= is_company_line(&text, company_label.as_deref());
                cells.push((i, k, text));
            }
        }
        facts[i].contact = sig.phones.len() + sig.emails.len() + sig.websites.len() > before;
    }
    let (start, end) = (sig.lines.start, sig.lines.end);
    let last = (start..end)
        .rev()
        .find(|&i| !facts[i].blank)
        .unwrap_or(start);
    let first_cell = cells.first().map(|c| (c.0, c.1));
    let ctx = FeatureContext {
        hint,
        tokens: &tokens,
        company_label: company_label.as_deref(),
    };
    let candidates = cells
        .into_iter()
        .map(|(i, k, text)| {
            let mut f = ctx.cell_features(&text);
            f.push(format!("top={}", (i - start).min(5)));
            f.push(format!("bot={}", last.saturating_sub(i).min(5)));
            let person = person_shape(&text);
            if first_cell == Some((i, k)) {
                f.push("first_cell".into());
                if person {
                    f.push("first_cell&person".into());
                }
            }
            if person && facts.get(i + 1).is_some_and(|n| n.title || n.company) {
                f.push("person&next_title_or_company".into());
            }
            if i > start && facts[i - 1].person {
                f.push("after_person".into());
            }
            let neighbour = |j: Option<usize>, side: &str, f: &mut Vec<String>| {
                // Outside the block only blankness and a closing are known.
                let n = match j {
                    Some(j) if (start..end).contains(&j) => facts[j],
                    Some(j) if j < lines.len() => LineFacts {
                        blank: lines[j].trim().is_empty(),
                        closing: closing(lines[j]).is_some(),
                        ..Default::default()
                    },
                    _ => LineFacts {
                        blank: true,
                        ..Default::default()
                    },
                };
                for (on, what) in [
                    (n.blank, "blank"),
                    (n.contact, "contact"),
                    (n.closing, "closing"),
                    (n.person, "person"),
                    (n.title, "title"),
                    (n.company, "company"),
                ] {
                    if on {
                        f.push(format!("{side}_{what}"));
                    }
                }
            };
            neighbour(i.checked_sub(1), "prev", &mut f);
            neighbour(Some(i + 1), "next", &mut f);
            if facts[i].contact {
                f.push("line_contact".into());
            }
            if let Some(above) = sign_off_above(lines, i) {
                f.push(above.into());
            }
            Candidate {
                text,
                line: i,
                features: f,
            }
        })
        .collect();
    Block {
        sig,
        candidates,
        company_label,
    }
}

/// Words a person's name can be written with: one to five, none with a
/// digit, `@` or `:`, at least one capitalised ("gngr" and "email." are not).
fn could_be_name(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    (1..=5).contains(&words.len())
        && !text.contains(|c: char| c.is_ascii_digit() || c == '@' || c == ':')
        && words.iter().any(|w| w.starts_with(char::is_uppercase))
}

/// A unit of an organisation: one to five capitalised words without digits,
/// not a legal company name ("Customer Support",
/// "ENA Legal Dept.", "Transaction Management").
fn department_like(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    (1..=5).contains(&words.len())
        && words.iter().all(|w| {
            w.starts_with(char::is_uppercase)
                || *w == "&"
                || SMALL_WORDS.contains(&w.to_lowercase().as_str())
        })
        && !text.contains(|c: char| c.is_ascii_digit() || c == '@' || c == ':')
        && !has_legal_form(text)
}

/// Last words of a unit's name rather than a company's.
const UNIT_NOUNS: &[&str] = &[
    "support",
    "affairs",
    "management",
    "team",
    "desk",
    "division",
    "department",
    "dept",
    "unit",
    "operations",
    "administration",
];

/// The name of a unit within an organisation ("Trading Support", "Legal
/// Department", "Transaction Management"): a department-like line ending in a
/// unit noun.
fn is_unit_name(text: &str) -> bool {
    department_like(text) && last_word(text).is_some_and(|w| UNIT_NOUNS.contains(&w.as_str()))
}

/// A job title has no phone-like digits and is not a company's legal name
/// ("(713) 853-8799 Ph." and "Globex Corp." are not titles).
fn could_be_title(text: &str) -> bool {
    text.chars().filter(char::is_ascii_digit).count() < 3
        && (looks_like_title(text) || !looks_like_company(text))
}

/// The company name the sender's domain spells, lower-cased ("globex" for
/// `amy@globex.com`), if it is a company domain.
fn company_label(hint: &SenderHint) -> Option<String> {
    hint.email
        .and_then(CompanyDomain::from_email)
        .and_then(|d| d.company_name())
        .map(|c| c.to_lowercase())
}

/// "Senior Counsel, EWS", "Director, Globex Corp.": a title and the company it
/// is held at written on one line. Credentials ("Analyst, CFA")
/// and titles after a title ("Vice President, CFO") stay one cell.
fn split_title_company(text: &str, company_label: Option<&str>) -> Option<[String; 2]> {
    let (title, company) = text.rsplit_once(',')?;
    let (title, company) = (title.trim(), company.trim());
    let acronym = (2..=6).contains(&company.len())
        && company.chars().all(|c| c.is_ascii_uppercase() || c == '&');
    // One capitalised word after a title is where the title is held ("CEO, FairAir").
    let one_name = !company.contains(char::is_whitespace)
        && company.starts_with(char::is_uppercase)
        && company.chars().all(char::is_alphanumeric);
    let is_company = acronym || one_name || is_company_line(company, company_label);
    (looks_like_title(title)
        && !title.contains(',')
        && !looks_like_title(company)
        && credential(company).is_none()
        && is_company)
        .then(|| [title.to_string(), company.to_string()])
}

/// Where the nearest closing ("Thanks,", "Regards") above line `i` stands,
/// looking past the block's start: a name right under it (or on its line,
/// "Thanks, Deb") is the sign-off of the message, while a block set off from
/// it by a blank line is a signature. In the annotated Enron mail a name right
/// under a closing is a sign-off 77 times out of 78.
fn sign_off_above(lines: &[&str], i: usize) -> Option<&'static str> {
    if closing(lines[i]).is_some_and(|rest| !rest.is_empty()) {
        return Some(CLOSING_SAME_LINE);
    }
    let above = (0..i).rev().find(|&j| !lines[j].trim().is_empty())?;
    closing(lines[above]).filter(|rest| rest.is_empty())?;
    Some(if above + 1 == i {
        CLOSING_RIGHT_ABOVE
    } else {
        CLOSING_GAP_ABOVE
    })
}

/// Features of a cell that is part of the closing: on its line ("Thanks,
/// Deb") or right below it; or below it after a blank line.
const CLOSING_SAME_LINE: &str = "closing_same_line";
const CLOSING_RIGHT_ABOVE: &str = "closing_right_above";
const CLOSING_GAP_ABOVE: &str = "closing_gap_above";
/// Feature of a cell holding a word of the sender's name.
const SENDER_ANY: &str = "sender_any";

impl Block {
    /// Name, title and company chosen among the candidates by the classifier:
    /// per role the cell where it wins by the widest margin; a company split
    /// over consecutive lines ("Treasury Dept." / "Williams Gas Pipeline
    /// Company") is joined.
    fn signature(self, hint: &SenderHint, model: &Model) -> Signature {
        let Block {
            mut sig,
            candidates,
            company_label,
        } = self;
        // Each cell's role probabilities, computed once.
        let probabilities: Vec<[f64; 4]> = candidates
            .iter()
            .map(|c| model.probabilities(&c.features))
            .collect();
        let reads_as =
            |k: usize, role: Role| probabilities[k][role as usize] >= model.threshold(role);
        // Greedy assignment, most probable first: each role goes to one cell
        // and each cell to one role, only above the decision threshold.
        let mut ranked: Vec<(f64, usize, Role)> = candidates
            .iter()
            .enumerate()
            .flat_map(|(k, _)| {
                let p = probabilities[k];
                [Role::Name, Role::Title, Role::Company]
                    .into_iter()
                    .map(move |r| (p[r as usize], k, r))
            })
            .filter(|&(_, k, r)| {
                let text = &candidates[k].text;
                reads_as(k, r)
                    && match r {
                        Role::Name => could_be_name(text),
                        Role::Title => could_be_title(text),
                        _ => true,
                    }
            })
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut role_of: Vec<Option<Role>> = vec![None; candidates.len()];
        let mut chosen: [Option<usize>; 3] = [None; 3];
        for (_, k, r) in ranked {
            if role_of[k].is_none() && chosen[r as usize].is_none() {
                role_of[k] = Some(r);
                chosen[r as usize] = Some(k);
            }
        }
        // A "title" without any title word while no company was found is the
        // company ("Merrill Lynch (OGC)", "Enron North America").
        if let (Some(t), None) = (chosen[Role::Title as usize], chosen[Role::Company as usize])
            && !looks_like_title(&candidates[t].text)
        {
            role_of[t] = Some(Role::Company);
            chosen[Role::Company as usize] = Some(t);
            chosen[Role::Title as usize] = None;
        }
        // Of two company-like lines in a row, the one with a legal form is
        // the company ("Merita Bank Plc" over "Debt Capital Markets").
        if let Some(company) = chosen[Role::Company as usize]
            && !has_legal_form(&candidates[company].text)
        {
            let neighbour = [company.checked_sub(1), Some(company + 1)]
                .into_iter()
                .flatten()
                .find(|&j| {
                    candidates.get(j).is_some_and(|c| {
                        role_of[j].is_none()
                            && c.line.abs_diff(candidates[company].line) == 1
                            && has_legal_form(&c.text)
                            && reads_as(j, Role::Company)
                    })
                });
            if let Some(j) = neighbour {
                role_of[company] = None;
                role_of[j] = Some(Role::Company);
                chosen[Role::Company as usize] = Some(j);
            }
        }
        // No title but a company: a department line between the name and the
        // company, or right below the company, is what the person does there
        // ("Customer Support" / "Dynegy, Inc.", "Enron North America Corp." /
        // "ENA Legal Dept.").
        if let (None, Some(company)) =
            (chosen[Role::Title as usize], chosen[Role::Company as usize])
        {
            let from = chosen[Role::Name as usize].map_or(0, |n| n + 1);
            let below = candidates
                .get(company + 1)
                .filter(|c| c.line == candidates[company].line + 1)
                .map(|_| company + 1);
            // Below a name, two capitalised words are not a second person.
            let named = chosen[Role::Name as usize].is_some();
            let department = (from..company).chain(below).find(|&k| {
                let text = &candidates[k].text;
                let senders = candidates[k].features.iter().any(|f| f == SENDER_ANY);
                role_of[k].is_none()
                    && department_like(text)
                    && !senders
                    && (named || !person_shape(text))
            });
            if let Some(k) = department {
                role_of[k] = Some(Role::Title);
                chosen[Role::Title as usize] = Some(k);
            }
        }
        // A unit's name alone ("Trading Support", "Government Affairs") says
        // what the person does, not who employs them (the mail domain does).
        if let (None, Some(company)) =
            (chosen[Role::Title as usize], chosen[Role::Company as usize])
            && is_unit_name(&candidates[company].text)
        {
            chosen[Role::Title as usize] = Some(company);
            chosen[Role::Company as usize] = None;
            role_of[company] = Some(Role::Title);
        }
        let cell_text = |k: usize| candidates[k].text.trim_start_matches(['-', ' ']);
        let field = |k: usize| Field {
            value: cell_text(k).to_string(),
            line: candidates[k].line,
        };
        sig.name = chosen[Role::Name as usize].map(field);
        sig.title = chosen[Role::Title as usize].map(|k| {
            // A title continued on the line above or below ("Assistant to Greg
            // Piper" / "President & CEO", "Senior Vice President," /
            // "Corporate Development") is one title.
            let continues = |j: usize| {
                let c = &candidates[j];
                role_of[j].is_none()
                    && c.line.abs_diff(candidates[k].line) == 1
                    && could_be_title(&c.text)
                    && reads_as(j, Role::Title)
            };
            let above = k.checked_sub(1).filter(|&j| continues(j));
            let below = Some(k + 1).filter(|&j| j < candidates.len() && continues(j));
            let parts: Vec<&str> = above
                .into_iter()
                .chain([k])
                .chain(below)
                .map(|j| cell_text(j).trim_end_matches(','))
                .collect();
            Field {
                value: parts.join(", "),
                line: candidates[above.unwrap_or(k)].line,
            }
        });
        sig.company = chosen[Role::Company as usize].map(|k| {
            // The lines right above and below join when they read as company
            // too and were not taken as name or title ("Merita Bank Plc" /
            // "Debt Capital Markets").
            let mut first = k;
            while first > 0
                && candidates[first - 1].line + 1 == candidates[first].line
                && role_of[first - 1].is_none()
                && reads_as(first - 1, Role::Company)
            {
                first -= 1;
            }
            let mut f = field(first);
            let mut line = candidates[k].line;
            for c in &candidates[first + 1..=k] {
                f.value.push(' ');
                f.value.push_str(&c.text);
            }
            for (j, c) in candidates.iter().enumerate().skip(k + 1) {
                if c.line == line + 1 && role_of[j].is_none() && reads_as(j, Role::Company) {
                    f.value.push(' ');
                    f.value.push_str(&c.text);
                    line = c.line;
                } else if c.line > line {
                    break;
                }
            }
            f
        });
        // "Senior Counsel, EWS": the title line also names the company (the
        // classifier may have taken the line as either).
        let split = |f: &Field| {
            split_title_company(&f.value, company_label.as_deref()).map(|[title, company]| {
                let at = |value| Field {
                    value,
                    line: f.line,
                };
                (at(title), at(company))
            })
        };
        if let Some((title, company)) = sig.title.as_ref().and_then(split) {
            sig.title = Some(title);
            sig.company.get_or_insert(company);
        } else if sig.title.is_none()
            && let Some((title, company)) = sig.company.as_ref().and_then(split)
        {
            sig.title = Some(title);
            sig.company = Some(company);
        }
        // A role or machine account (sales@, noreply@) never lends a name to a
        // person, and a bare person address keeps only a name it spells.
        if let (Some(n), Some(email)) = (&sig.name, hint.email) {
            let words: Vec<String> = n
                .value
                .split_whitespace()
                .map(|w| w.trim_matches([',', '.']).to_lowercase())
                .collect();
            if classify_sender(email) != SenderKind::Person
                || (hint.name.is_none() && !address_spells_name(email, &words))
            {
                sig.name = None;
            }
        }
        // A name far above every contact fact is a sign-off, not a signature.
        let first_fact = fact_lines(&sig).min();
        if let (Some(n), Some(f)) = (&sig.name, first_fact)
            && f > n.line + 5
        {
            sig.name = None;
        }
        // A name in the closing ("Thanks," right above it), or below a closing
        // but followed by numbers rather than a title or company, signs the
        // message off; the block's name heads a title or company.
        let signs_off = |k: usize| {
            let has = |feature: &str| candidates[k].features.iter().any(|f| f == feature);
            let heads_title_or_company = (k + 1..candidates.len())
                .find(|&j| candidates[j].line > candidates[k].line)
                .is_some_and(|j| {
                    let c = &candidates[j];
                    let organisation_right_below = c.line == candidates[k].line + 1
                        && (department_like(&c.text) || has_legal_form(&c.text));
                    c.line <= candidates[k].line + 2
                        && (matches!(role_of[j], Some(Role::Title | Role::Company))
                            || organisation_right_below
                            || reads_as(j, Role::Title)
                            || reads_as(j, Role::Company))
                });
            has(CLOSING_RIGHT_ABOVE)
                || has(CLOSING_SAME_LINE)
                || (has(CLOSING_GAP_ABOVE) && !heads_title_or_company)
        };
        if chosen[Role::Name as usize].is_some_and(signs_off) {
            sig.signed_as = sig.name.take();
        }
        sig
    }
}

/// Sender-independent inputs of the cell features.
struct FeatureContext<'a> {
    hint: &'a SenderHint<'a>,
    tokens: &'a [String],
    company_label: Option<&'a str>,
}

impl FeatureContext<'_> {
    /// Features of the cell text alone (its position is added by the caller).
    fn cell_features(&self, text: &str) -> Vec<String> {
        let words: Vec<String> = text
            .split_whitespace()
            .map(|w| w.trim_matches([',', '.', '(', ')']).to_lowercase())
            .filter(|w| !w.is_empty())
            .collect();
        let mut f = vec!["bias".to_string(), format!("words={}", words.len().min(7))];
        let mut flag = |on: bool, name: &str| {
            if on {
                f.push(name.to_string());
            }
        };
        let caps = text
            .split_whitespace()
            .filter(|w| !SMALL_WORDS.contains(&w.to_lowercase().as_str()))
            .all(|w| !w.starts_with(char::is_lowercase));
        let letters: Vec<char> = text.chars().filter(|c| c.is_alphabetic()).collect();
        flag(caps, "caps");
        flag(
            letters.len() > 1 && letters.iter().all(|c| c.is_uppercase()),
            "upper",
        );
        let person = person_shape(text);
        flag(person, "person");
        let first = words.first().is_some_and(|w| self.tokens.contains(w));
        let last = words.len() > 1 && words.last().is_some_and(|w| self.tokens.contains(w));
        flag(first, "sender_first");
        flag(last, "sender_last");
        flag(words.iter().any(|w| self.tokens.contains(w)), SENDER_ANY);
        flag(is_sender_name_line(text, self.hint), "sender_line");
        flag(
            self.hint
                .email
                .is_some_and(|e| words.len() >= 2 && address_spells_name(e, &words)),
            "address_spells",
        );
        let no_sender = self.tokens.is_empty();
        flag(no_sender, "no_sender");
        flag(no_sender && person, "no_sender&person");
        let title = looks_like_title(text);
        let company = looks_like_company(text);
        let label = is_company_line(text, self.company_label) && !company;
        flag(title, "lex_title");
        flag(ends_with_role(text), "lex_role_end");
        flag(starts_with_role(text), "lex_role_start");
        flag(
            split_title_company(text, self.company_label).is_some(),
            "title_comma_company",
        );
        flag(company, "lex_company");
        flag(label, "domain_label");
        flag(title && company, "lex_title&company");
        // The hand-written rules' verdicts, so the model starts from them.
        let rule_title = title
            && (ends_with_role(text)
                || starts_with_role(text)
                || !is_company_line(text, self.company_label));
        flag(rule_title, "rule_title");
        flag(
            !rule_title && is_company_line(text, self.company_label),
            "rule_company",
        );
        flag(person && title, "person&title");
        flag(text.chars().any(|c| c.is_ascii_digit()), "digit");
        flag(text.contains(','), "comma");
        flag(text.contains(" - ") || text.contains('-'), "dash");
        flag(text.ends_with('.'), "period_end");
        flag(text.contains('(') || text.contains(')'), "paren");
        flag(text.contains('&'), "amp");
        flag(text.contains(':'), "colon");
        flag(text.contains('/'), "slash");
        flag(text.chars().count() > 40, "long");
        flag(
            words
                .iter()
                .any(|w| w.len() == 1 && w.chars().all(char::is_alphabetic)),
            "initial",
        );
        flag(ADDRESS.is_match(text), "address");
        f
    }
}

/// Function words allowed in lower case inside a capitalised name or title.
const SMALL_WORDS: &[&str] = &[
    "of", "and", "&", "the", "for", "de", "la", "du", "van", "von", "der", "to", "y", "e", "-",
];

/// Two to four capitalised words or initials, nothing else: "Dana K.
/// Whitfield", "Carol St. Clair", "O'Neil-Hart".
fn person_shape(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    (2..=4).contains(&words.len())
        && words.iter().all(|w| {
            let core = w.trim_end_matches([',', '.']);
            let mut chars = core.chars();
            chars.next().is_some_and(char::is_uppercase)
                && chars.all(|c| c.is_alphabetic() || c == '\'' || c == '-')
        })
        && !looks_like_company(text)
        && !looks_like_title(text)
}

static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^\d+\s+\w+.*\b(street|st|avenue|ave|road|rd|blvd|drive|dr|suite|ste|floor|way|lane|plaza)\b|\b(p\.?\s?o\.?\s+box|suite|[A-Z][a-z]+,\s+[A-Z]{2}\s+\d{5})\b|\b\d{5}(-\d{4})?$",
    )
    .expect("valid regex")
});

/// The country of the block's numbers written with a country code, when they agree:
/// a person's office and mobile numbers are nearly always in one country, so it reads
/// the numbers written without one.
fn international_region(lines: &[&str]) -> Option<String> {
    let mut found: Option<String> = None;
    for c in lines.iter().flat_map(|l| find_phone_candidates(l)) {
        let raw = c.raw.trim_start();
        if !(raw.starts_with('+') || raw.starts_with("00")) {
            continue;
        }
        let Some(region) = c
            .parse(&RegionHints::default())
            .as_ref()
            .and_then(region_of)
        else {
            continue;
        };
        match &found {
            Some(r) if *r != region => return None,
            _ => found = Some(region),
        }
    }
    found
}

/// Record validated phones of a whole line (labels may sit several spaces
/// away from the number) and return the line with them blanked out.
fn take_phones(line: &str, i: usize, hints: &RegionHints, sig: &mut Signature) -> String {
    let mut rest = line.to_string();
    let mut found = Vec::new();
    for c in find_phone_candidates(line).into_iter().rev() {
        if let Some(number) = c.parse(hints) {
            rest.replace_range(label_start(line, c.start)..c.end, "   ");
            found.push(SignaturePhone {
                number,
                kind: c.kind,
                raw: c.raw,
                line: i,
            });
        }
    }
    for p in found.into_iter().rev() {
        if !sig.phones.iter().any(|q| q.number == p.number) {
            sig.phones.push(p);
        }
    }
    rest
}

fn fact_lines(sig: &Signature) -> impl Iterator<Item = usize> + '_ {
    let singles = [&sig.title, &sig.company, &sig.linkedin, &sig.twitter]
        .into_iter()
        .flatten()
        .map(|f| f.line);
    singles
        .chain(sig.phones.iter().map(|p| p.line))
        .chain(sig.emails.iter().chain(&sig.websites).map(|f| f.line))
}

/// Take the contact facts (emails, links, handles, hosts) out of a cell and
/// return what is left when it may be a name, title or company.
fn contact_cell(cell: &str, i: usize, sig: &mut Signature) -> Option<String> {
    if cell.is_empty() {
        return None;
    }
    let mut rest = cell.to_string();
    for m in EMAIL.find_iter(cell) {
        let v = m.as_str().to_string();
        if !sig.emails.iter().any(|e| e.value.eq_ignore_ascii_case(&v)) {
            sig.emails.push(Field {
                value: v.clone(),
                line: i,
            });
        }
        rest = rest.replace(m.as_str(), " ");
    }
    for m in URL.find_iter(cell) {
        let v = m.as_str().trim_end_matches(['.', ',', ';']).to_string();
        let lower = v.to_lowercase();
        let f = Field {
            value: v.clone(),
            line: i,
        };
        if lower.contains("linkedin.com/") {
            sig.linkedin.get_or_insert(f);
        } else if lower.contains("twitter.com/")
            || lower.contains("://x.com/")
            || lower.starts_with("x.com/")
        {
            sig.twitter.get_or_insert(f);
        } else if !sig.websites.iter().any(|w| w.value == v) {
            sig.websites.push(f);
        }
        rest = rest.replace(m.as_str(), " ");
    }
    if let Some(c) = TWITTER_HANDLE.captures(cell) {
        sig.twitter.get_or_insert(Field {
            value: format!("@{}", &c[1]),
            line: i,
        });
        return None;
    }
    let text = strip_field_label(rest.trim())
        .trim_matches([',', ';', '|', '-', ' '])
        .trim();
    if text.is_empty()
        || text.len() > 80
        || !text.chars().any(char::is_alphabetic)
        || reads_as_prose(text)
        || ATTACHED_FILE.is_match(text)
    {
        return None;
    }
    // A lone "@handle" cell in a signature is an X/Twitter handle.
    if let Some(handle) = text.strip_prefix('@')
        && (1..=15).contains(&handle.len())
        && handle
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        sig.twitter.get_or_insert(Field {
            value: text.to_string(),
            line: i,
        });
        return None;
    }
    // A bare host with a known public suffix ("janedoe.design") is a website.
    if is_bare_host(text) {
        if !sig
            .websites
            .iter()
            .any(|w| w.value.eq_ignore_ascii_case(text))
        {
            sig.websites.push(Field {
                value: text.to_string(),
                line: i,
            });
        }
        return None;
    }
    Some(text.to_string())
}

/// A sentence rather than a name, title or company: three or more lower-case
/// words besides the small words names and titles allow ("Please click on
/// the link below", "FairAir is the world's only airline").
fn reads_as_prose(text: &str) -> bool {
    text.split_whitespace()
        .filter(|w| {
            w.starts_with(char::is_lowercase) && !SMALL_WORDS.contains(&w.to_lowercase().as_str())
        })
        .count()
        >= 3
}

/// One token of host syntax whose suffix is in the public suffix list and whose
/// top-level label is alphabetic (so "3.5" and "e.g." are not hosts).
fn is_bare_host(text: &str) -> bool {
    let t = text.trim_end_matches('/');
    !t.contains(char::is_whitespace)
        && t.contains('.')
        && !t.starts_with('.')
        && !t.ends_with('.')
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && t.rsplit('.')
            .next()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()))
        && crate::extract::domains::registrable_domain(t).is_some()
}

/// Include a preceding "Tel:"-style label when blanking a phone out of the
/// cell so it is not mistaken for a title.
fn label_start(cell: &str, start: usize) -> usize {
    const LABELS: &[&str] = &[
        "tel",
        "telephone",
        "phone",
        "ph",
        "t",
        "m",
        "mobile",
        "mob",
        "mobil",
        "cell",
        "cel",
        "c",
        "f",
        "fax",
        "fx",
        "facsimile",
        "o",
        "office",
        "d",
        "direct",
        "dir",
        "w",
        "work",
        "h",
        "home",
        "p",
        "pager",
        "handy",
    ];
    let trimmed = cell[..start].trim_end_matches([' ', ':', '.', '-', '\t']);
    let word_start = trimmed.rfind(|c: char| !c.is_alphabetic()).map_or(0, |p| {
        p + trimmed[p..].chars().next().map_or(1, char::len_utf8)
    });
    if LABELS.contains(&trimmed[word_start..].to_lowercase().as_str()) {
        word_start
    } else {
        start
    }
}

/// "Title: Director" / "Company - Acme" style labelled cells.
fn strip_field_label(s: &str) -> &str {
    for label in [
        "title",
        "position",
        "company",
        "organization",
        "organisation",
        "firm",
        "role",
    ] {
        if let Some(rest) = s
            .get(..label.len())
            .filter(|p| p.eq_ignore_ascii_case(label))
            .map(|_| &s[label.len()..])
            && let Some(r) = rest.trim_start().strip_prefix([':', '-'])
        {
            return r.trim();
        }
    }
    s
}

/// Organisation: legal-form words, or the company name from the sender's
/// (non-free-mail) domain appearing as a word ("Acme Europe" for acme.de).
fn is_company_line(text: &str, company_label: Option<&str>) -> bool {
    if looks_like_company(text) {
        return true;
    }
    let Some(label) = company_label.filter(|l| l.len() >= 3) else {
        return false;
    };
    let lower = text.to_lowercase();
    let n = text.split_whitespace().count();
    (1..=6).contains(&n)
        && !text.chars().any(|c| c.is_ascii_digit())
        && text.chars().next().is_some_and(char::is_uppercase)
        && lower
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| w == label || label.split(' ').next() == Some(w))
}

pub mod model;

#[cfg(test)]
mod tests;
