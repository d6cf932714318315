//! Word lists that recognise line types in signatures: organisations, job
//! titles, closings, disclaimers and mobile footers. Kept in one place so the
//! quote splitter and the signature extractor agree on what a company is.

/// Legal forms of companies; a short line containing one as a whole word is
/// taken for an organisation name.
const LEGAL_FORMS: &[&str] = &[
    "inc",
    "inc.",
    "incorporated",
    "llc",
    "l.l.c.",
    "llp",
    "lp",
    "l.p.",
    "ltd",
    "ltd.",
    "limited",
    "corp",
    "corp.",
    "corporation",
    "company",
    "co.",
    "gmbh",
    "ag",
    "s.a.",
    "sa",
    "sas",
    "sarl",
    "s.p.a.",
    "spa",
    "bv",
    "b.v.",
    "nv",
    "n.v.",
    "pty",
    "plc",
    "oy",
    "ab",
    "a/s",
    "kg",
    "kgaa",
];

/// Words naming a kind of organisation ("Acme Consulting", "Smith & Partners"),
/// which count like a legal form.
const ORGANISATION_KINDS: &[&str] = &[
    "group",
    "holdings",
    "partners",
    "associates",
    "consulting",
    "consultants",
    "bank",
    "technologies",
    "solutions",
    "ventures",
    "capital",
    "labs",
    "industries",
    "university",
    "institute",
    "foundation",
    "agency",
    "authority",
    "commission",
    "department",
    "dept.",
    "dept",
    "pipeline",
    "services",
    "securities",
];

fn company_word(word: &str) -> bool {
    LEGAL_FORMS.contains(&word) || ORGANISATION_KINDS.contains(&word)
}

/// Words that make a short line a job title.
const TITLE_WORDS: &[&str] = &[
    "ceo",
    "cfo",
    "cto",
    "coo",
    "cio",
    "cmo",
    "vp",
    "svp",
    "evp",
    "avp",
    "president",
    "vice",
    "director",
    "manager",
    "head",
    "chief",
    "officer",
    "founder",
    "co-founder",
    "cofounder",
    "owner",
    "partner",
    "principal",
    "chairman",
    "chair",
    "counsel",
    "attorney",
    "lawyer",
    "paralegal",
    "analyst",
    "associate",
    "engineer",
    "developer",
    "consultant",
    "specialist",
    "coordinator",
    "assistant",
    "administrator",
    "representative",
    "advisor",
    "adviser",
    "executive",
    "lead",
    "supervisor",
    "geologist",
    "trader",
    "scientist",
    "architect",
    "designer",
    "accountant",
    "controller",
    "treasurer",
    "secretary",
    "professor",
    "researcher",
    "recruiter",
    "editor",
    "producer",
    "strategist",
    "economist",
    "marketing",
    "sales",
    "intern",
    "clerk",
    "agent",
    "broker",
    "planner",
    "scheduler",
    "technician",
    "programmer",
    "auditor",
    "member",
    "writer",
    "author",
    "journalist",
    "photographer",
    "illustrator",
    "translator",
    "coach",
    "investor",
    "freelance",
    "freelancer",
    "geschäftsführer",
    "leiter",
    "directeur",
    "gérant",
    "gerente",
];

/// Closings after which the signature usually begins.
const CLOSINGS: &[&str] = &[
    "best",
    "best regards",
    "kind regards",
    "warm regards",
    "regards",
    "many thanks",
    "thanks",
    "thank you",
    "thanks again",
    "thx",
    "tx",
    "cheers",
    "cordially",
    "warmly",
    "warm wishes",
    "with best regards",
    "with kind regards",
    "with regards",
    "very truly yours",
    "yours",
    "love",
    "hugs",
    "sincerely",
    "yours sincerely",
    "sincerely yours",
    "yours truly",
    "respectfully",
    "all the best",
    "best wishes",
    "take care",
    "talk soon",
    "rgds",
    "best rgds",
    "kind rgds",
    "mit freundlichen grüßen",
    "viele grüße",
    "beste grüße",
    "gruß",
    "cordialement",
    "bien cordialement",
    "bien à vous",
    "saludos",
    "un saludo",
    "atentamente",
    "cordiali saluti",
    "atenciosamente",
    "abraços",
    "met vriendelijke groet",
];

/// Phrases that open a legal disclaimer or confidentiality notice.
const DISCLAIMER_CUES: &[&str] = &[
    "confidential",
    "intended recipient",
    "intended only for",
    "privileged",
    "disclaimer",
    "this e-mail and any",
    "this email and any",
    "this message and any",
    "if you have received this",
    "do not disclose",
    "unauthorized",
    "virus",
    "not be construed",
    "vertraulich",
    "ce message",
];

/// Mobile-client footers that are never part of a signature.
const MOBILE_FOOTERS: &[&str] = &[
    "sent from my",
    "sent from mobile",
    "sent via",
    "get outlook for",
    "sent with",
    "von meinem",
    "envoyé de mon",
    "enviado desde mi",
    "inviato da",
    "enviado do meu",
];

fn words(line: &str) -> impl Iterator<Item = String> + '_ {
    line.split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')' || c == '|')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// Legal forms that belong to one country's company law, with that country; forms
/// used in many ("S.A.", "AG" is Swiss too but mostly German) count for the likelier.
const LEGAL_FORM_REGIONS: &[(&str, &str)] = &[
    ("ltd", "GB"),
    ("ltd.", "GB"),
    ("limited", "GB"),
    ("plc", "GB"),
    ("llp", "GB"),
    ("inc", "US"),
    ("inc.", "US"),
    ("incorporated", "US"),
    ("llc", "US"),
    ("l.l.c.", "US"),
    ("corp", "US"),
    ("corp.", "US"),
    ("gmbh", "DE"),
    ("ag", "DE"),
    ("kg", "DE"),
    ("kgaa", "DE"),
    ("sarl", "FR"),
    ("sas", "FR"),
    ("pty", "AU"),
    ("bv", "NL"),
    ("b.v.", "NL"),
    ("nv", "NL"),
    ("n.v.", "NL"),
    ("s.p.a.", "IT"),
    ("spa", "IT"),
    ("oy", "FI"),
    ("ab", "SE"),
    ("a/s", "DK"),
];

/// The country whose company law a line's legal form belongs to ("Acme Widgets
/// Ltd" is British, "Acme GmbH" German); `None` without one, or with forms of two
/// countries. "Pty Ltd" is Australian, "Pvt Ltd" Indian.
pub fn legal_form_region(line: &str) -> Option<&'static str> {
    let words: Vec<String> = words(line).collect();
    let has = |w: &str| words.iter().any(|x| x == w);
    if has("pty") {
        return Some("AU");
    }
    if has("pvt") || has("pvt.") {
        return Some("IN");
    }
    let mut found = None;
    for w in &words {
        if let Some((_, region)) = LEGAL_FORM_REGIONS.iter().find(|(form, _)| form == w) {
            match found {
                Some(r) if r != *region => return None,
                _ => found = Some(*region),
            }
        }
    }
    found
}

/// Whether a line carries a company's legal form ("Dynegy, Inc.", "Merita Bank Plc").
pub fn has_legal_form(line: &str) -> bool {
    words(line).any(|w| LEGAL_FORMS.contains(&w.as_str()))
}

/// A short capitalised line carrying a legal form or organisation word.
pub fn looks_like_company(line: &str) -> bool {
    let t = line.trim();
    let n = t.split_whitespace().count();
    (1..=8).contains(&n)
        && !t.contains('@')
        && t.chars()
            .next()
            .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit())
        && (words(t).any(|w| company_word(&w)) || partnership_name(t))
        && !t.starts_with(|c: char| c.is_ascii_digit())
        && !ends_like_sentence(t)
}

/// Common nouns that make "X & Y" a field of work ("Research & Development",
/// "Sales & Marketing") rather than a firm of partners' names.
const FIELDS_OF_WORK: &[&str] = &[
    "research",
    "development",
    "sales",
    "marketing",
    "mergers",
    "acquisitions",
    "operations",
    "engineering",
    "finance",
    "accounting",
    "legal",
    "trading",
    "risk",
    "compliance",
    "planning",
    "strategy",
    "logistics",
    "production",
    "transportation",
    "supply",
    "communications",
    "security",
    "technology",
    "administration",
    "maintenance",
    "construction",
    "health",
    "safety",
    "environment",
    "government",
    "regulatory",
    "public",
    "investor",
    "human",
    "analyst",
    "associate",
    "parking",
    "facilities",
    "training",
    "recruiting",
    "audit",
    "tax",
];

/// A firm named after its partners: two to four single capitalised names
/// joined by commas and a final `&` ("Deloitte & Touche", "McDermott, Will &
/// Emery").
fn partnership_name(line: &str) -> bool {
    let Some((names, last)) = line.rsplit_once(" & ") else {
        return false;
    };
    let parts: Vec<&str> = names.split(", ").chain([last]).map(str::trim).collect();
    (2..=4).contains(&parts.len())
        && parts.iter().all(|p| {
            !p.contains(char::is_whitespace)
                && p.starts_with(char::is_uppercase)
                && p.chars()
                    .all(|c| c.is_alphabetic() || c == '\'' || c == '-')
                && !FIELDS_OF_WORK.contains(&p.to_lowercase().as_str())
                && !TITLE_WORDS.contains(&p.to_lowercase().as_str())
        })
}

/// "... the company should wait." ends in a full stop after an ordinary
/// word; "Acme Corp." ends in a legal-form abbreviation.
fn ends_like_sentence(t: &str) -> bool {
    let last = t.split_whitespace().last().unwrap_or("").to_lowercase();
    t.ends_with(['.', '!', '?'])
        && !company_word(&last)
        && !last.trim_end_matches('.').contains('.')
}

/// A short line naming a role ("Senior Counsel", "VP, Sales & Marketing").
pub fn looks_like_title(line: &str) -> bool {
    let t = line.trim();
    let n = t.split_whitespace().count();
    (1..=8).contains(&n)
        && !t.contains('@')
        && !t.chars().any(|c| c.is_ascii_digit())
        && !t.ends_with(['!', '?', ':'])
        && t.chars().next().is_some_and(char::is_uppercase)
        && words(t).any(|w| {
            // "Manager-Corporate Development": hyphenated parts count as words.
            w.split('-')
                .any(|p| TITLE_WORDS.contains(&p.trim_end_matches(['.', '&'])))
        })
}

/// A title-like line whose last word is a role ("Solutions Architect", "Sales
/// Manager"): titles end in the role, company names in a legal form or an
/// organisation word ("Acme Solutions", "Smith & Partners").
pub fn ends_with_role(line: &str) -> bool {
    looks_like_title(line) && last_word(line).is_some_and(|w| TITLE_WORDS.contains(&w.as_str()))
}

/// The line's last word, lower-cased, without the punctuation around it.
pub fn last_word(line: &str) -> Option<String> {
    line.split_whitespace().last().map(bare_word)
}

fn bare_word(word: &str) -> String {
    word.trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase()
}

/// A title that opens with its role or rank ("Manager - Human Capital
/// Advisory Services", "Senior Counsel, EWS", "VP Sales"), however
/// company-like the rest reads.
pub fn starts_with_role(line: &str) -> bool {
    const RANKS: &[&str] = &[
        "senior", "sr", "junior", "jr", "deputy", "managing", "general", "staff", "regional",
        "global", "acting", "interim",
    ];
    looks_like_title(line)
        && line
            .split_whitespace()
            .next()
            .and_then(|w| w.split('-').next())
            .map(bare_word)
            .is_some_and(|w| TITLE_WORDS.contains(&w.as_str()) || RANKS.contains(&w.as_str()))
}

/// "Best regards," / "Thanks!" / "Cheers -" alone on a line, or followed by a
/// name ("Thanks, Jane"). Returns the text after the closing, if any.
pub fn closing(line: &str) -> Option<&str> {
    let t = line.trim();
    let lower = t.to_lowercase();
    CLOSINGS
        .iter()
        .filter(|c| lower.starts_with(**c))
        .max_by_key(|c| c.len())
        .and_then(|c| {
            let rest = &t[c.len()..];
            let rest_trim = rest.trim_start_matches([',', '!', '.', '-', ' ', '\u{2014}', ':']);
            let alone = rest_trim.is_empty();
            let with_name = rest.starts_with([',', ' ', '-'])
                && rest_trim.split_whitespace().count() <= 3
                && rest_trim.chars().next().is_some_and(char::is_uppercase);
            (alone || with_name).then_some(rest_trim)
        })
}

/// True when a paragraph reads like a legal/confidentiality notice.
pub fn is_disclaimer(paragraph: &str) -> bool {
    let lower = paragraph.to_lowercase();
    let hits = DISCLAIMER_CUES
        .iter()
        .filter(|c| lower.contains(**c))
        .count();
    hits >= 2
        || (hits == 1 && paragraph.len() > 160)
        || lower.trim_start().starts_with("disclaimer")
}

/// Advertisements free webmail services append below the text
/// ("Do You Yahoo!?" and its slogan, Hotmail's "Get your FREE download").
const WEBMAIL_ADS: &[&str] = &[
    "do you yahoo!?",
    "get your free download of msn",
    "get your free e-mail",
    "get free email",
    "join the world's largest e-mail service",
    "express yourself instantly with msn",
];

/// The first line of a webmail service's advertisement footer.
pub fn is_webmail_ad(line: &str) -> bool {
    let lower = line.trim().to_lowercase();
    WEBMAIL_ADS.iter().any(|f| lower.starts_with(f))
}

/// "Sent from my iPhone" and similar client footers.
pub fn is_mobile_footer(line: &str) -> bool {
    let lower = line.trim().to_lowercase();
    MOBILE_FOOTERS.iter().any(|f| lower.starts_with(f)) && lower.split_whitespace().count() <= 8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legal_forms_name_their_country() {
        assert_eq!(legal_form_region("Tidewater Robotics Ltd"), Some("GB"));
        assert_eq!(legal_form_region("Acme Widgets Limited"), Some("GB"));
        assert_eq!(legal_form_region("Fallowmere Legal GmbH"), Some("DE"));
        assert_eq!(legal_form_region("Kookaburra Pty Ltd"), Some("AU"));
        assert_eq!(legal_form_region("Chai Systems Pvt. Ltd."), Some("IN"));
        assert_eq!(legal_form_region("Halcyon Media Inc."), Some("US"));
        assert_eq!(legal_form_region("Senior Product Manager"), None);
        assert_eq!(
            legal_form_region("Acme GmbH & Acme Ltd"),
            None,
            "two countries"
        );
    }

    #[test]
    fn companies() {
        assert!(looks_like_company("Globex Trading Corp."));
        assert!(looks_like_company("Müller & Söhne GmbH"));
        assert!(looks_like_company("Acme Pty Ltd"));
        assert!(!looks_like_company("I think the company should wait."));
        assert!(!looks_like_company("1400 Main Street, Suite 300"));
        assert!(looks_like_company("McDermott, Will & Emery"));
        assert!(looks_like_company("Deloitte & Touche"));
        assert!(!looks_like_company("Research & Development"));
        assert!(!looks_like_company("President & CEO"));
    }

    #[test]
    fn titles() {
        assert!(looks_like_title("Senior Counsel"));
        assert!(looks_like_title("VP, Sales & Marketing"));
        assert!(looks_like_title("Geschäftsführer"));
        assert!(looks_like_title("Manager-Corporate Development"));
        assert!(!looks_like_title("Call me at 555 0100"));
        assert!(!looks_like_title("Please ask the director?"));
    }

    #[test]
    fn closings() {
        assert_eq!(closing("Best regards,"), Some(""));
        assert_eq!(closing("Thanks, Jane"), Some("Jane"));
        assert_eq!(closing("Mit freundlichen Grüßen"), Some(""));
        assert_eq!(closing("Thanks for the update on the contract."), None);
        assert_eq!(closing("Bestätigung folgt"), None);
        assert_eq!(closing("Cordially,"), Some(""));
        assert_eq!(closing("Tx, Rick"), Some("Rick"));
        assert_eq!(closing("TX 77002"), None);
        assert_eq!(closing("Yours is the best offer."), None);
    }

    #[test]
    fn titles_opening_with_their_role() {
        assert!(starts_with_role(
            "Manager - Human Capital Advisory Services"
        ));
        assert!(starts_with_role("Senior Counsel, EWS"));
        assert!(!starts_with_role("Human Capital Advisory Services Manager"));
        assert!(!starts_with_role("Globex Capital Services"));
    }

    #[test]
    fn disclaimers_and_footers() {
        assert!(is_disclaimer(
            "CONFIDENTIALITY NOTICE: This e-mail and any attachments are intended only for the addressee."
        ));
        assert!(!is_disclaimer("Let's keep this confidential for now."));
        assert!(is_mobile_footer("Sent from my iPhone"));
        assert!(is_mobile_footer("Von meinem iPhone gesendet"));
        assert!(!is_mobile_footer("Sent the contract yesterday"));
        assert!(is_webmail_ad("Do You Yahoo!?"));
        assert!(is_webmail_ad(
            "Get your FREE download of MSN Explorer at http://explorer.msn.com"
        ));
        assert!(!is_webmail_ad("Do you have the draft?"));
    }
}
