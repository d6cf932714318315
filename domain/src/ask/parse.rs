//! The offline engine's parser: a question in plain English to one [`Intent`], by
//! fixed patterns, with no I/O. Names and companies stay text here; the engine resolves
//! them against the user's contacts. Dates are computed against the `now` passed in.

use std::sync::LazyLock;

use chrono::{DateTime, Duration, Utc};
use regex::Regex;

use super::period::{Period, find_period};
use super::tools::{Awaiting, Metric};

/// Which way the messages went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Both,
    /// From the user to them.
    Sent,
    /// From them to the user.
    Received,
}

/// A contact field a question asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Phone,
    Email,
    Title,
    Employer,
}

/// What a question asks, with its arguments still as the user wrote them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    /// "top 5 people at acme.com by emails this quarter", "who emailed me most last month"
    TopContacts {
        metric: Metric,
        period: Option<Period>,
        company: Option<String>,
        limit: i64,
    },
    /// "who did I talk to this week"
    ActiveContacts { period: Period },
    /// "who haven't I replied to this week?", "who hasn't replied to me"
    Unanswered {
        awaiting: Awaiting,
        period: Option<Period>,
        person: Option<String>,
    },
    /// "when did I last talk to Dana?"
    LastInteraction { person: String, flow: Flow },
    /// "when did I first email Sam?"
    FirstInteraction { person: String, flow: Flow },
    /// "how many emails did I exchange with Sam last month?"
    CountMessages {
        person: String,
        flow: Flow,
        period: Option<Period>,
    },
    /// "who is Dana?"
    WhoIs { person: String },
    /// "what's Sam's phone?", "where does Sam work?"
    ContactField { person: String, field: Field },
    /// "who at acme.com", "how many people work at Acme"
    PeopleAt { company: String, count: bool },
    /// "people I haven't talked to in 90 days"
    Dormant { before: DateTime<Utc> },
    /// "summarize my relationship with Sam"
    Summary { person: String },
    /// "show my emails with Sam last month"
    Timeline {
        person: String,
        period: Option<Period>,
    },
    /// "emails about the invoice", "find messages mentioning pricing from Sam"
    SearchMessages {
        text: String,
        person: Option<String>,
        period: Option<Period>,
    },
    /// "which companies do I email most"
    TopCompanies { limit: i64 },
    /// "how many contacts do I have"
    CountContacts,
}

/// Questions the offline engine understands, shown when it does not understand one.
pub const EXAMPLES: &[&str] = &[
    "Who haven't I replied to this week?",
    "Top 5 people at acme.com by emails this quarter",
    "When did I last talk to Dana?",
    "Summarize my relationship with Sam",
    "Who emailed me most last month?",
    "How many emails did I exchange with Sam?",
    "Who at acme.com?",
    "People I haven't talked to in 90 days",
    "Who is Dana?",
    "What's Sam's phone number?",
    "When did I first email Sam?",
    "Unanswered emails from Sam",
    "Who hasn't replied to me this month?",
    "Which companies do I email most?",
    "Emails about the invoice last quarter",
];

static SPACES: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\s+").expect("valid regex"));

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("valid regex")
}

static SUMMARY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:summarize|summarise|sum up|give me a summary of|summary of|tell me about|how is|how's|describe)\s+(?:my\s+)?(?:relationship|history|relations|conversations?|emails?)?\s*(?:with\s+)?(.+)$",
    )
});
static FIELD_POSSESSIVE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:what(?:'s| is| are)\s+|whats\s+|give me\s+|find\s+|get\s+|show me\s+)?(.+?)(?:'s|’s|s') (phone(?: number)?|number|mobile(?: number)?|cell(?: number)?|e-?mail(?: address)?|address|job title|title|role|position|job|company|employer)$",
    )
});
static FIELD_OF: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:what(?:'s| is)\s+|whats\s+|give me\s+|find\s+)?(?:the\s+)?(phone(?: number)?|mobile(?: number)?|e-?mail(?: address)?|job title|title|role|company|employer) (?:of|for) (.+)$",
    )
});
static WHERE_WORKS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:where|which company|what company) (?:does|is) (.+?) (?:work(?: at| for)?|employed(?: at)?|at|with)$",
    )
});
static WHAT_DOES_DO: LazyLock<Regex> =
    LazyLock::new(|| re(r"^what does (.+?) do(?: for a living)?$"));
static WHO_IS: LazyLock<Regex> = LazyLock::new(|| re(r"^(?:who(?:'s| is)|whos) (.+)$"));
static HOW_MANY: LazyLock<Regex> =
    LazyLock::new(|| re(r"^how many (?:e-?mails|messages|mails|times)\b(.*)$"));
static HOW_MANY_PEOPLE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^how many (?:people|contacts|persons|colleagues|employees)(?: do i know| do i have| are there)?\s*(?:(?:who )?(?:work(?:ing)?|are|is)?\s*(?:at|from|in) (.+?)(?: do i know| do i have)?)?$",
    )
});
static PEOPLE_AT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:who|which people|which contacts|what people|people|contacts|everyone|anyone|list (?:the )?(?:people|contacts)|show (?:me )?(?:the )?(?:people|contacts))(?: do i know| i know)?(?: who)?(?: works?| is| are)?(?: working)? (?:at|from|in) (.+?)(?: do i know)?$",
    )
});
static TOP_COMPANIES: LazyLock<Regex> = LazyLock::new(|| {
    re(r"\b(?:which|what|top|my top|list)(?: (\d+))? (compan(?:y|ies)|organi[sz]ations?)\b")
});
static TOP_N: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(?:top|best|first) (\d{1,2})\b|\b(\d{1,2}) (?:\w+ )?(?:people|contacts|persons|relationships)\b",
    )
});
static AT_COMPANY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(?:at|from) ([a-z0-9][a-z0-9.-]*\.[a-z]{2,}|[a-z0-9][a-z0-9&' -]*?)(?: by| in| this| last|$)",
    )
});
static DORMANT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(?:haven't|have not|havent|didn't|did not|not) (?:talked|spoken|emailed|written|heard from|been in touch|contacted|interacted|messaged|reached out)|\blost touch\b|\bgone quiet\b|\bdormant\b",
    )
});
static THEIR_REPLY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(?:hasn't|haven't|has not|have not|hasnt|havent|didn't|did not|never) (?:yet )?(?:replied|responded|answered|gotten back|written back)(?: to me| to my)|\bwaiting (?:on|for) (?:a |their )?(?:reply|response|answer) from\b|\bawaiting (?:a |their )?(?:reply|response)\b|\bno (?:reply|response|answer) from\b|\bignored me\b|\bunanswered (?:emails?|messages?|threads?) to\b",
    )
});
static MY_REPLY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(?:haven't i|have i not|i haven't|i have not|i didn't|didn't i|did i not|i never|not yet) (?:yet )?(?:replied|responded|answered|gotten back|written back)|\bunanswered\b|\bi owe (?:a )?(?:reply|response|an answer)|\b(?:need|needs|awaiting|waiting (?:on|for)) (?:my |a )?(?:reply|response|answer)\b|\bto reply to\b|\bstill need to answer\b",
    )
});
static WHEN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:when|what (?:date|day|time)|what was the (?:date|day)|on what date)\b.*?\b(last|first|most recently|latest|earliest)\b|\b(last|first|latest|earliest|most recent) (?:time|email|e-mail|message|mail|interaction|contact|conversation|exchange)\b",
    )
});
static ACTIVE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:who|which people|which contacts|what people)(?: did i| have i| i)? (?:talk(?:ed)?|spoke|speak|spoken|email(?:ed)?|e-mailed|interact(?:ed)?|correspond(?:ed)?|write|wrote|written|hear(?:d)? from|meet|met|chat(?:ted)?)(?: to| with| from)?$",
    )
});
static SEARCH: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:find |search (?:for )?|show (?:me )?|list |any |are there any )?(?:my )?(?:e-?mails?|messages?|mails?|threads?|conversations?)(?: (?:from|with|to) (.+?))? (?:about|mentioning|regarding|containing|that mention|on the topic of|re:?) (.+?)(?: (?:from|with|to) (.+?))?$",
    )
});
static TIMELINE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:show (?:me )?|list |what are |find |get |display )?(?:all )?(?:my )?(?:recent |latest |last )?(?:e-?mails?|messages?|mails?|threads?|conversations?|timeline|history|interactions?|activity)(?: i had)? (?:with|from|to|between me and|of) (.+)$",
    )
});

/// Lowercase, straight apostrophes, no trailing punctuation, single spaces.
fn normalize(question: &str) -> String {
    let lower = question.trim().to_lowercase().replace(['’', '‘'], "'");
    let trimmed = lower.trim_end_matches(['?', '.', '!', ' ']);
    SPACES.replace_all(trimmed, " ").trim().to_owned()
}

/// The intent of `question` as of `now`, or `None` when the offline engine does not
/// understand it.
pub fn parse(question: &str, now: DateTime<Utc>) -> Option<Intent> {
    let text = normalize(question);
    if text.is_empty() {
        return None;
    }
    let found = find_period(&text, now);
    let period = found.as_ref().map(|f| f.period);
    let rest = match &found {
        Some(f) => SPACES
            .replace_all(&text.replacen(&f.phrase, " ", 1), " ")
            .trim()
            .to_owned(),
        None => text.clone(),
    };

    if let Some(c) = SUMMARY.captures(&rest) {
        return person(&c[1]).map(|person| Intent::Summary { person });
    }
    if DORMANT.is_match(&rest) && !THEIR_REPLY.is_match(&rest) && !MY_REPLY.is_match(&rest) {
        let before = period
            .map(|p| p.from)
            .unwrap_or_else(|| now - Duration::days(90));
        return Some(Intent::Dormant { before });
    }
    if THEIR_REPLY.is_match(&rest) {
        return Some(Intent::Unanswered {
            awaiting: Awaiting::TheirReply,
            period,
            person: after_word(&rest, &["to", "from"]).filter(|p| p != "me"),
        });
    }
    if MY_REPLY.is_match(&rest) {
        return Some(Intent::Unanswered {
            awaiting: Awaiting::MyReply,
            period,
            person: after_word(&rest, &["from", "by"]),
        });
    }
    if let Some(c) = HOW_MANY_PEOPLE.captures(&rest) {
        return Some(match c.get(1) {
            Some(company) => Intent::PeopleAt {
                company: clean(company.as_str())?,
                count: true,
            },
            None => Intent::CountContacts,
        });
    }
    if let Some(c) = HOW_MANY.captures(&rest) {
        let tail = c[1].trim();
        let flow = flow_of(tail);
        let person = counted_person(tail)?;
        return Some(Intent::CountMessages {
            person,
            flow,
            period,
        });
    }
    if let Some(c) = WHEN.captures(&rest) {
        let which = c.get(1).or(c.get(2)).map(|m| m.as_str()).unwrap_or("last");
        let person = interaction_person(&rest)?;
        let flow = flow_of(&rest);
        return Some(if matches!(which, "first" | "earliest") {
            Intent::FirstInteraction { person, flow }
        } else {
            Intent::LastInteraction { person, flow }
        });
    }
    if let Some(c) = TOP_COMPANIES.captures(&rest) {
        let limit = explicit_limit(c.get(1).map(|m| m.as_str())).unwrap_or(if &c[2] == "company" {
            1
        } else {
            5
        });
        return Some(Intent::TopCompanies { limit });
    }
    if let Some(intent) = top_contacts(&rest, period) {
        return Some(intent);
    }
    if let Some(c) = SEARCH.captures(&rest) {
        let person = c.get(1).or(c.get(3)).and_then(|m| person(m.as_str()));
        return clean(&c[2]).map(|text| Intent::SearchMessages {
            text: text.trim_matches(['"', '\'']).to_owned(),
            person,
            period,
        });
    }
    if let Some(c) = TIMELINE.captures(&rest) {
        return person(&c[1]).map(|person| Intent::Timeline { person, period });
    }
    if let Some(c) = PEOPLE_AT.captures(&rest) {
        return clean(&c[1]).map(|company| Intent::PeopleAt {
            company,
            count: false,
        });
    }
    if let Some(period) = period
        && ACTIVE.is_match(&rest)
    {
        return Some(Intent::ActiveContacts { period });
    }
    if ACTIVE.is_match(&rest) && text.contains("recently") {
        return Some(Intent::ActiveContacts {
            period: Period::new(now - Duration::days(30), now)?,
        });
    }
    if let Some(c) = FIELD_POSSESSIVE.captures(&rest) {
        return Some(Intent::ContactField {
            person: person(&c[1])?,
            field: field_of(&c[2]),
        });
    }
    if let Some(c) = FIELD_OF.captures(&rest) {
        return Some(Intent::ContactField {
            person: person(&c[2])?,
            field: field_of(&c[1]),
        });
    }
    if let Some(c) = WHERE_WORKS.captures(&rest) {
        return Some(Intent::ContactField {
            person: person(&c[1])?,
            field: Field::Employer,
        });
    }
    if let Some(c) = WHAT_DOES_DO.captures(&rest) {
        return Some(Intent::ContactField {
            person: person(&c[1])?,
            field: Field::Title,
        });
    }
    if let Some(c) = WHO_IS.captures(&rest) {
        return person(&c[1]).map(|person| Intent::WhoIs { person });
    }
    None
}

/// "top 5 people at acme.com by emails this quarter", "who emailed me most", "my
/// strongest relationships".
fn top_contacts(text: &str, period: Option<Period>) -> Option<Intent> {
    let ranks = [
        "most",
        "top",
        "strongest",
        "closest",
        "best",
        "biggest",
        "frequent",
    ]
    .iter()
    .any(|w| text.split(' ').any(|t| t == *w || t.starts_with("most")));
    if !ranks {
        return None;
    }
    let metric = if ["strongest", "closest", "strength", "best relationship"]
        .iter()
        .any(|w| text.contains(w))
    {
        Metric::Strength
    } else if [
        "emailed me",
        "e-mailed me",
        "sent me",
        "wrote me",
        "wrote to me",
        "written to me",
        "writes to me",
        "emails me",
        "messaged me",
        "received",
        "by received",
        "heard from",
        "from whom",
    ]
    .iter()
    .any(|w| text.contains(w))
    {
        Metric::Received
    } else if [
        "did i email",
        "i emailed",
        "did i e-mail",
        "i email",
        "i sent",
        "did i send",
        "did i write",
        "i wrote",
        "i write",
        "by sent",
        "sent to",
    ]
    .iter()
    .any(|w| text.contains(w))
    {
        Metric::Sent
    } else {
        Metric::Emails
    };
    let limit = TOP_N
        .captures(text)
        .and_then(|c| explicit_limit(c.get(1).or(c.get(2)).map(|m| m.as_str())))
        .unwrap_or_else(|| {
            let plural = [
                "people",
                "contacts",
                "top",
                "who are",
                "relationships",
                "persons",
            ]
            .iter()
            .any(|w| text.contains(w));
            if plural { 5 } else { 1 }
        });
    let company = AT_COMPANY
        .captures(text)
        .and_then(|c| clean(&c[1]))
        .filter(|c| !matches!(c.as_str(), "me" | "whom" | "them"));
    Some(Intent::TopContacts {
        metric,
        period,
        company,
        limit,
    })
}

fn explicit_limit(n: Option<&str>) -> Option<i64> {
    n?.parse().ok().filter(|n| (1..=50).contains(n))
}

fn field_of(word: &str) -> Field {
    if word.starts_with("phone")
        || word.starts_with("mobile")
        || word.starts_with("cell")
        || word == "number"
    {
        Field::Phone
    } else if word.contains("mail") || word == "address" {
        Field::Email
    } else if word == "company" || word == "employer" {
        Field::Employer
    } else {
        Field::Title
    }
}

/// Which way a count or "when" question looks: "did I email X" is sent, "did X email
/// me" and "hear from X" received, "talk to" or "exchange with" both.
fn flow_of(text: &str) -> Flow {
    let text = &text
        .replace("first ", "")
        .replace("last ", "")
        .replace("ever ", "");
    let received = [
        " me", "from", "hear", "heard", "receive", "received", "get from", "got from",
    ];
    let sent = [
        "i email",
        "i e-mail",
        "i send",
        "i sent",
        "i write",
        "i wrote",
        "did i email",
        "did i send",
        "did i write",
        "i mail",
        "to ",
    ];
    let both = [
        "exchange",
        "talk",
        "speak",
        "spoke",
        "interact",
        "between",
        "with",
        "contact",
        "correspond",
    ];
    if both.iter().any(|w| text.contains(w)) {
        Flow::Both
    } else if received.iter().any(|w| text.contains(w))
        && !sent[..9].iter().any(|w| text.contains(w))
    {
        Flow::Received
    } else if sent.iter().any(|w| text.contains(w)) {
        Flow::Sent
    } else {
        Flow::Both
    }
}

static COUNT_PERSON: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?:with|to|from|between me and|and) (.+?)(?: and me| send me| sent me| e-?mail(?:ed)? me| write me| wrote me| send| sent)?$|^(?:did|has|have) (.+?) (?:send|sent|e-?mail|e-?mailed|write|wrote)(?: to)? me$|^(?:did i|have i) (?:send|sent|e-?mail|e-?mailed|write|wrote|exchange)(?: to)? (.+)$",
    )
});

/// The person in the tail of "how many emails …".
fn counted_person(tail: &str) -> Option<String> {
    let c = COUNT_PERSON.captures(tail)?;
    let raw = c.get(1).or(c.get(2)).or(c.get(3))?.as_str();
    let raw = raw
        .trim_start_matches("did i exchange ")
        .trim_start_matches("have i exchanged ");
    person(raw)
}

static INTERACTION_PERSON: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?:talk(?:ed)?|speak|spoke(?:n)?|email(?:ed)?|e-mail(?:ed)?|write|wrote|written|meet|met|hear(?:d)?|contact(?:ed)?|interact(?:ed)?|exchange(?:d)?|message(?:d)?|reach(?:ed)? out|send|sent|get|got|receive(?:d)?|correspond(?:ed)?|mail(?:ed)?|chat(?:ted)?|reply|replied)(?: an? e-?mail| e-?mails?| anything| something)?(?: back)? (?:to |with |from )?(.+)$|(?:with|from|to) (.+)$|^when did (.+?) (?:last |first )?(?:email|e-mail|write|message|contact|reach out to|reply to|send|get back to)(?: me| to me)?$",
    )
});

/// The person in "when did I last talk to X", "last email from X", "when did X last
/// email me".
fn interaction_person(text: &str) -> Option<String> {
    if let Some(c) = Regex::new(
        r"^when did (.+?) (?:last |first )(?:email|e-mail|write|message|contact|reach out|reply|send|get back)",
    )
    .expect("valid regex")
    .captures(text)
        && let Some(person) = person(&c[1])
    {
        return Some(person);
    }
    let c = INTERACTION_PERSON.captures(text)?;
    let raw = c.get(1).or(c.get(2)).or(c.get(3))?.as_str();
    person(raw)
}

/// The words after the last of `words` ("unanswered emails from sam" → "sam").
fn after_word(text: &str, words: &[&str]) -> Option<String> {
    let tokens: Vec<&str> = text.split(' ').collect();
    let at = tokens.iter().rposition(|t| words.contains(t))?;
    person(&tokens[at + 1..].join(" "))
}

const FILLER_TAIL: &[&str] = &[
    "recently",
    "lately",
    "ever",
    "so far",
    "overall",
    "in total",
    "total",
    "altogether",
    "all time",
    "of all time",
    "please",
    "again",
    "last",
    "first",
    "me",
    "back",
    "to me",
    "with me",
];
const FILLER_HEAD: &[&str] = &[
    "my ", "the ", "to ", "with ", "from ", "about ", "mr ", "ms ",
];

/// A name or company as written, without fillers around it; `None` when nothing is left.
fn clean(raw: &str) -> Option<String> {
    let mut text = raw.trim().trim_matches(['"', '\'', ',']).trim().to_owned();
    loop {
        let before = text.clone();
        for tail in FILLER_TAIL {
            if let Some(stripped) = text.strip_suffix(tail)
                && (stripped.is_empty() || stripped.ends_with(' '))
            {
                text = stripped.trim().to_owned();
            }
        }
        for head in FILLER_HEAD {
            if let Some(stripped) = text.strip_prefix(head) {
                text = stripped.trim().to_owned();
            }
        }
        if text == before {
            break;
        }
    }
    let text = text.trim_end_matches("'s").trim().to_owned();
    (!text.is_empty()).then_some(text)
}

/// A person reference: a cleaned name that is not a pronoun.
fn person(raw: &str) -> Option<String> {
    clean(raw).filter(|p| {
        !matches!(
            p.as_str(),
            "me" | "i" | "you" | "them" | "him" | "her" | "us" | "anyone" | "someone" | "everyone"
        )
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 6, 30, 17, 0, 0).unwrap()
    }

    fn parsed(q: &str) -> Intent {
        parse(q, now()).unwrap_or_else(|| panic!("not understood: {q}"))
    }

    fn person_of(q: &str) -> String {
        match parsed(q) {
            Intent::LastInteraction { person, .. }
            | Intent::FirstInteraction { person, .. }
            | Intent::CountMessages { person, .. }
            | Intent::WhoIs { person }
            | Intent::ContactField { person, .. }
            | Intent::Summary { person }
            | Intent::Timeline { person, .. } => person,
            other => panic!("{q}: no person in {other:?}"),
        }
    }

    #[test]
    fn the_issues_examples() {
        assert!(matches!(
            parsed("Who haven't I replied to this week?"),
            Intent::Unanswered {
                awaiting: Awaiting::MyReply,
                period: Some(_),
                person: None
            }
        ));
        match parsed("top 5 people at acme.com by emails this quarter") {
            Intent::TopContacts {
                metric,
                period,
                company,
                limit,
            } => {
                assert_eq!(metric, Metric::Emails);
                assert_eq!(limit, 5);
                assert_eq!(company.as_deref(), Some("acme.com"));
                assert_eq!(
                    period.unwrap().from,
                    Utc.with_ymd_and_hms(2025, 4, 1, 0, 0, 0).unwrap()
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parsed("When did I last talk to Dana?"),
            Intent::LastInteraction { ref person, flow: Flow::Both } if person == "dana"
        ));
        assert_eq!(
            parsed("summarize my relationship with Sam"),
            Intent::Summary {
                person: "sam".into()
            }
        );
    }

    #[test]
    fn rankings() {
        match parsed("who emailed me most last month") {
            Intent::TopContacts {
                metric,
                limit,
                company,
                period,
            } => {
                assert_eq!((metric, limit, company), (Metric::Received, 1, None));
                assert_eq!(
                    period.unwrap().from,
                    Utc.with_ymd_and_hms(2025, 5, 1, 0, 0, 0).unwrap()
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parsed("who did I email the most"),
            Intent::TopContacts {
                metric: Metric::Sent,
                limit: 1,
                ..
            }
        ));
        assert!(matches!(
            parsed("my 3 strongest relationships"),
            Intent::TopContacts {
                metric: Metric::Strength,
                limit: 3,
                ..
            }
        ));
        assert!(matches!(
            parsed("which companies do I email most"),
            Intent::TopCompanies { limit: 5 }
        ));
        assert!(matches!(
            parsed("which company do I email the most?"),
            Intent::TopCompanies { limit: 1 }
        ));
    }

    #[test]
    fn counts_and_directions() {
        let q = |text: &str| match parsed(text) {
            Intent::CountMessages { person, flow, .. } => (person, flow),
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(
            q("how many emails did I exchange with Sam Lee?"),
            ("sam lee".into(), Flow::Both)
        );
        assert_eq!(
            q("how many emails did I send to Sam Lee"),
            ("sam lee".into(), Flow::Sent)
        );
        assert_eq!(
            q("how many emails have I received from sam.lee@acme.com"),
            ("sam.lee@acme.com".into(), Flow::Received)
        );
        assert_eq!(
            q("how many emails did Sam Lee send me"),
            ("sam lee".into(), Flow::Received)
        );
        assert_eq!(parsed("how many contacts do I have"), Intent::CountContacts);
        assert_eq!(
            parsed("how many people do I know at acme.com"),
            Intent::PeopleAt {
                company: "acme.com".into(),
                count: true
            }
        );
    }

    #[test]
    fn people_and_fields() {
        assert_eq!(
            parsed("who is Dana"),
            Intent::WhoIs {
                person: "dana".into()
            }
        );
        assert_eq!(
            parsed("What's Sam's phone?"),
            Intent::ContactField {
                person: "sam".into(),
                field: Field::Phone
            }
        );
        assert_eq!(
            parsed("what is the email address of Sam Lee"),
            Intent::ContactField {
                person: "sam lee".into(),
                field: Field::Email
            }
        );
        assert_eq!(
            parsed("where does Dana Ito work"),
            Intent::ContactField {
                person: "dana ito".into(),
                field: Field::Employer
            }
        );
        assert_eq!(
            parsed("what is Dana Ito's title"),
            Intent::ContactField {
                person: "dana ito".into(),
                field: Field::Title
            }
        );
        assert_eq!(
            parsed("who at acme.com"),
            Intent::PeopleAt {
                company: "acme.com".into(),
                count: false
            }
        );
        assert_eq!(
            parsed("who works at Acme Corp?"),
            Intent::PeopleAt {
                company: "acme corp".into(),
                count: false
            }
        );
    }

    #[test]
    fn interactions_and_gaps() {
        assert!(matches!(
            parsed("when did I first email Sam"),
            Intent::FirstInteraction {
                flow: Flow::Sent,
                ..
            }
        ));
        assert_eq!(person_of("when did I first email Sam"), "sam");
        assert_eq!(person_of("When did Dana last email me?"), "dana");
        assert!(matches!(
            parsed("When did Dana last email me?"),
            Intent::LastInteraction {
                flow: Flow::Received,
                ..
            }
        ));
        assert_eq!(person_of("last email from Dana Ito"), "dana ito");
        let Intent::Dormant { before } = parsed("people I haven't talked to in 90 days") else {
            panic!()
        };
        assert_eq!(before, now() - Duration::days(90));
        assert!(
            matches!(parsed("unanswered emails from Sam"), Intent::Unanswered { awaiting: Awaiting::MyReply, person: Some(ref p), .. } if p == "sam")
        );
        assert!(matches!(
            parsed("who hasn't replied to me this month"),
            Intent::Unanswered {
                awaiting: Awaiting::TheirReply,
                person: None,
                ..
            }
        ));
        assert!(matches!(
            parsed("who did I talk to this week"),
            Intent::ActiveContacts { .. }
        ));
    }

    #[test]
    fn messages() {
        assert_eq!(
            parsed("emails about the invoice from Sam"),
            Intent::SearchMessages {
                text: "invoice".into(),
                person: Some("sam".into()),
                period: None
            }
        );
        assert!(
            matches!(parsed("show my emails with Dana last month"), Intent::Timeline { ref person, period: Some(_) } if person == "dana")
        );
    }

    #[test]
    fn outside_the_intents_is_none() {
        assert_eq!(parse("what's the weather in Paris", now()), None);
        assert_eq!(parse("", now()), None);
        assert_eq!(parse("write a poem", now()), None);
    }
}
