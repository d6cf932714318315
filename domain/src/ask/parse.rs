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
    /// "what has Dana been posting about?" (X posts stored by enrichment)
    RecentPosts { person: String },
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
    /// "who should I reach out to?", "when did I last meet Dana?" (see `keep_in_touch`)
    KeepInTouch(super::keep_in_touch::Question),
}

impl Intent {
    /// The person the question is about, as written.
    pub fn person(&self) -> Option<&str> {
        match self {
            Intent::LastInteraction { person, .. }
            | Intent::FirstInteraction { person, .. }
            | Intent::CountMessages { person, .. }
            | Intent::WhoIs { person }
            | Intent::ContactField { person, .. }
            | Intent::Summary { person }
            | Intent::RecentPosts { person }
            | Intent::Timeline { person, .. } => Some(person),
            Intent::Unanswered { person, .. } | Intent::SearchMessages { person, .. } => {
                person.as_deref()
            }
            Intent::KeepInTouch(question) => question.person(),
            _ => None,
        }
    }

    /// The same question about `other` instead: its person, else its company.
    pub fn with_subject(&self, other: &str) -> Option<Intent> {
        let mut next = self.clone();
        match &mut next {
            Intent::LastInteraction { person, .. }
            | Intent::FirstInteraction { person, .. }
            | Intent::CountMessages { person, .. }
            | Intent::WhoIs { person }
            | Intent::ContactField { person, .. }
            | Intent::Summary { person }
            | Intent::RecentPosts { person }
            | Intent::Timeline { person, .. } => *person = other.to_owned(),
            Intent::Unanswered { person, .. } | Intent::SearchMessages { person, .. } => {
                *person = Some(other.to_owned())
            }
            Intent::PeopleAt { company, .. } => *company = other.to_owned(),
            Intent::TopContacts { company, .. } => *company = Some(other.to_owned()),
            _ => return None,
        }
        Some(next)
    }

    /// The same question over `period`, when it has one.
    pub fn with_period(&self, new: Period) -> Option<Intent> {
        let mut next = self.clone();
        match &mut next {
            Intent::TopContacts { period, .. }
            | Intent::Unanswered { period, .. }
            | Intent::CountMessages { period, .. }
            | Intent::Timeline { period, .. }
            | Intent::SearchMessages { period, .. } => *period = Some(new),
            Intent::ActiveContacts { period } => *period = new,
            Intent::Dormant { before } => *before = new.from,
            _ => return None,
        }
        Some(next)
    }

    /// The intent as a question this parser reads back as the same intent: what a
    /// refusal offers instead, filled with the names it found.
    pub fn question(&self) -> String {
        let during = |period: &Option<Period>| {
            period
                .map(|p| format!(" {}", period_phrase(p)))
                .unwrap_or_default()
        };
        match self {
            Intent::KeepInTouch(question) => question.question(),
            Intent::TopContacts {
                metric,
                period,
                company,
                limit,
            } => {
                let by = match metric {
                    Metric::Emails => "emails",
                    Metric::Sent => "sent",
                    Metric::Received => "received",
                    Metric::Strength => "strength",
                };
                let at = company
                    .as_ref()
                    .map(|c| format!(" at {c}"))
                    .unwrap_or_default();
                format!("Top {limit} people{at} by {by}{}", during(period))
            }
            Intent::ActiveContacts { period } => {
                format!("Who did I talk to {}?", period_phrase(*period))
            }
            Intent::Unanswered {
                awaiting: Awaiting::MyReply,
                period,
                person,
            } => match person {
                Some(p) => format!("Unanswered emails from {}{}", title_case(p), during(period)),
                None => format!("Who haven't I replied to{}?", during(period)),
            },
            Intent::Unanswered {
                awaiting: Awaiting::TheirReply,
                period,
                person,
            } => match person {
                Some(p) => format!("Unanswered emails to {}{}", title_case(p), during(period)),
                None => format!("Who hasn't replied to me{}?", during(period)),
            },
            Intent::LastInteraction { person, flow }
            | Intent::FirstInteraction { person, flow } => {
                let which = if matches!(self, Intent::FirstInteraction { .. }) {
                    "first"
                } else {
                    "last"
                };
                let p = title_case(person);
                match flow {
                    Flow::Both => format!("When did I {which} talk to {p}?"),
                    Flow::Sent => format!("When did I {which} email {p}?"),
                    Flow::Received => format!("When did {p} {which} email me?"),
                }
            }
            Intent::CountMessages {
                person,
                flow,
                period,
            } => {
                let p = title_case(person);
                let when = during(period);
                match flow {
                    Flow::Both => format!("How many emails did I exchange with {p}{when}?"),
                    Flow::Sent => format!("How many emails did I send to {p}{when}?"),
                    Flow::Received => format!("How many emails did {p} send me{when}?"),
                }
            }
            Intent::WhoIs { person } => format!("Who is {}?", title_case(person)),
            Intent::ContactField { person, field } => {
                let what = match field {
                    Field::Phone => "phone number",
                    Field::Email => "email address",
                    Field::Title => "title",
                    Field::Employer => "company",
                };
                format!("What's {}'s {what}?", title_case(person))
            }
            Intent::PeopleAt { company, count } => {
                if *count {
                    format!("How many people do I know at {company}?")
                } else {
                    format!("Who works at {company}?")
                }
            }
            Intent::Dormant { before } => {
                format!(
                    "People I haven't talked to since {}",
                    before.format("%Y-%m-%d")
                )
            }
            Intent::Summary { person } => {
                format!("Summarize my relationship with {}", title_case(person))
            }
            Intent::RecentPosts { person } => {
                format!("What has {} been posting about?", title_case(person))
            }
            Intent::Timeline { person, period } => {
                format!(
                    "Show my emails with {}{}",
                    title_case(person),
                    during(period)
                )
            }
            Intent::SearchMessages {
                text,
                person,
                period,
            } => {
                let from = person
                    .as_ref()
                    .map(|p| format!(" from {}", title_case(p)))
                    .unwrap_or_default();
                format!("Emails about \"{text}\"{from}{}", during(period))
            }
            Intent::TopCompanies { limit } => format!("Top {limit} companies"),
            Intent::CountContacts => "How many contacts do I have?".to_owned(),
        }
    }
}

/// "between 2025-03-01 and 2025-03-31" ([`find_period`] reads it back), "before …"
/// for an open start.
fn period_phrase(p: Period) -> String {
    let last_day = (p.to - Duration::seconds(1)).format("%Y-%m-%d");
    if p.from == DateTime::<Utc>::MIN_UTC {
        format!("before {}", p.to.format("%Y-%m-%d"))
    } else {
        format!("between {} and {last_day}", p.from.format("%Y-%m-%d"))
    }
}

/// "dana ito" → "Dana Ito"; addresses stay as they are.
fn title_case(name: &str) -> String {
    if name.contains('@') {
        return name.to_owned();
    }
    name.split(' ')
        .map(|w| {
            let mut chars = w.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Questions to suggest, built from the user's own `people` (names, most mail first)
/// and `company` (a name or domain): the most asked questions first, then one about
/// each person and the company. Without contacts, only questions that need no name.
pub fn suggested(people: &[String], company: Option<&str>) -> Vec<String> {
    let mut questions: Vec<String> = [
        "Who should I follow up with?",
        "Who owes me a reply?",
        "Who haven't I replied to this week?",
        "Who have I lost touch with?",
        "Who emailed me most last month?",
    ]
    .map(str::to_owned)
    .to_vec();
    let about: [fn(&str) -> String; 3] = [
        |p| format!("When did I last talk to {p}?"),
        |p| format!("How many emails did I exchange with {p} this year?"),
        |p| format!("What's {p}'s phone number?"),
    ];
    for (person, ask) in people.iter().zip(about) {
        questions.push(ask(person));
    }
    if let Some(person) = people.first() {
        questions.push(format!("Summarize my relationship with {person}"));
    }
    if let Some(company) = company {
        questions.push(format!("Who works at {company}?"));
        questions.push(format!("Top 3 people at {company} by emails"));
    }
    questions.push("Which companies do I email most?".to_owned());
    questions.push("How many contacts do I have?".to_owned());
    questions
}

/// What a question mentions even when no intent fits it: the runs of words that could
/// be a name (see [`name_runs`]) and a period.
pub fn mentions(question: &str, now: DateTime<Utc>) -> (Vec<String>, Option<Period>) {
    let text = normalize(question);
    let found = find_period(&text, now);
    let rest = match &found {
        Some(f) => text.replacen(&f.phrase, " ", 1),
        None => text.clone(),
    };
    let names = name_runs(SPACES.replace_all(rest.trim(), " ").as_ref())
        .iter()
        .filter_map(|run| person(run))
        .collect();
    (names, found.map(|f| f.period))
}

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
        r"^(?:what(?:'s| are| was)\s+|give me\s+|find\s+|get\s+|show me\s+|tell me\s+|i need\s+|do you have\s+|do i have\s+|look up\s+)?(.+?)(?:'s|s') (?:current |latest |work |office )?(phone|email|address|title|company|details)$",
    )
});
static FIELD_OF: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:what's\s+|what are\s+|give me\s+|find\s+|get\s+|show me\s+|i need\s+|look up\s+)?(?:the\s+|a\s+)?(?:current |latest |work |office )?(phone|email|address|title|company|details) (?:of|for|on) (.+)$",
    )
});
static WHERE_WORKS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:where|which company|what company|who) (?:does|is|do) (.+?) (?:work(?: at)?|employed|at|with)$|^(?:where|which company|what company) (?:does|is|do) (.+?) (?:work(?: at)?|employed|at|with) (?:now|currently|these days|today)$",
    )
});
static WHAT_DOES_DO: LazyLock<Regex> =
    LazyLock::new(|| re(r"^what does (.+?) do(?: for a living)?$"));
static WHO_IS: LazyLock<Regex> = LazyLock::new(|| re(r"^(?:who(?:'s| is)|whos) (.+)$"));
static HOW_MANY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:what's |tell me |give me )?(?:the )?(?:how many|count of|total count of|total) (?:emails|times)\b(.*)$",
    )
});
static HOW_MANY_PEOPLE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^how many (?:people|contacts|persons|colleagues|employees)(?: do i know| do i have| are there)?\s*(?:(?:who )?(?:work(?:ing)?|are|is)?\s*(?:at|from|in) (.+?)(?: do i know| do i have)?)?$",
    )
});
/// "Everbright Design people", "acme.com contacts".
static COMPANY_PEOPLE: LazyLock<Regex> = LazyLock::new(|| {
    re(r"^(?:the |my )?(.+?) (?:people|contacts|staff|employees|team|folks|colleagues)$")
});
static PEOPLE_AT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:who|which people|which contacts|what people|people|contacts|everyone|anyone|list (?:the )?(?:people|contacts)|show (?:me )?(?:the )?(?:people|contacts))(?: do i know| i know)?(?: who)?(?: works?| is| are)?(?: working)? (?:at|from|in) (.+?)(?: do i know)?$",
    )
});
static TOP_COMPANIES: LazyLock<Regex> = LazyLock::new(|| {
    re(r"\b(?:which|what|top|my top|list)(?: (\d+))? (compan(?:y|ies)|organi[sz]ations?)\b")
});
static RANKS: LazyLock<Regex> =
    LazyLock::new(|| re(r"\b(?:most|top|biggest|largest|main|frequent|frequently)\b"));
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
        r"\b(?:haven't|have not|havent|didn't|did not|not)(?: i| we)? (?:talked|spoken|emailed|written|heard from|been in touch|contacted|interacted|messaged|reached out|caught up)|\b(?:lost|lose|losing|out of) touch\b|\bgone (?:quiet|silent|cold)\b|\b(?:dormant|neglected|neglecting|reconnect|drifted|fallen off|stale)\b",
    )
});
static THEIR_REPLY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\bwaiting to hear (?:back )?from\b|\bhear back from\b|\bfollow(?:-| )?up\b|\bfollowups?\b|\bchase\b|\bnudge\b|\bowes? me\b|\bowing me\b|\b(?:am i|i'm|i am) (?:still )?waiting (?:on|for)\b|\b(?:hasn't|haven't|has not|have not|hasnt|havent|didn't|did not|never) (?:yet )?(?:replied|responded|answered|gotten back|written back|got back)(?: to me| to my)|\bwaiting (?:on|for) (?:a |their )?(?:reply|response|answer) from\b|\bawaiting (?:a |their )?(?:reply|response)\b|\bno (?:reply|response|answer) from\b|\bignored me\b|\bunanswered (?:emails?|messages?|threads?) to\b",
    )
});
static MY_REPLY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(?:reply|replies|response|answer) from me\b|\b(?:haven't i|have i not|i haven't|i have not|i didn't|didn't i|did i not|i never|not yet) (?:yet )?(?:replied|responded|answered|gotten back|written back)|\bunanswered\b|\bi owe (?:a )?(?:reply|response|an answer)|\b(?:need|needs|awaiting|waiting (?:on|for)) (?:my |a )?(?:reply|response|answer)\b|\bto reply to\b|\bstill need to answer\b",
    )
});
static FROM_ME: LazyLock<Regex> = LazyLock::new(|| {
    re(r"\b(?:reply|replies|response|answer) from me\b|\bmy (?:reply|response|answer)\b")
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

/// Phrases rewritten to one wording before parsing, so that the patterns below meet
/// one word per idea: synonyms (messages, mails, notes → emails; employer → company;
/// role, job, position → title; number, mobile → phone), "me and Dana" / "Dana and I"
/// (the user is always one side), number words. Whole words only, in this order.
const CANONICAL: &[(&str, &str)] = &[
    ("e-mails", "emails"),
    ("e-mail", "email"),
    ("e mail", "email"),
    ("whats", "what's"),
    ("whos", "who's"),
    ("wheres", "where's"),
    ("what is", "what's"),
    ("who is", "who's"),
    ("whom", "who"),
    ("first ever", "first"),
    ("ever first", "first"),
    ("very first", "first"),
    ("very last", "last"),
    ("most recent", "last"),
    ("most recently", "last"),
    ("messages", "emails"),
    ("message", "email"),
    ("mails", "emails"),
    ("mail", "email"),
    ("notes", "emails"),
    ("note", "email"),
    ("msgs", "emails"),
    ("msg", "email"),
    ("number of", "count of"),
    ("email address", "address"),
    ("email addresses", "address"),
    ("contact details", "details"),
    ("contact info", "details"),
    ("phone numbers", "phone"),
    ("phone number", "phone"),
    ("mobile number", "phone"),
    ("cell number", "phone"),
    ("cell phone", "phone"),
    ("cellphone", "phone"),
    ("telephone number", "phone"),
    ("telephone", "phone"),
    ("mobile", "phone"),
    ("cell", "phone"),
    ("number", "phone"),
    ("job title", "title"),
    ("job", "title"),
    ("role", "title"),
    ("position", "title"),
    ("employer", "company"),
    ("firm", "company"),
    ("organisation", "company"),
    ("organization", "company"),
    ("workplace", "company"),
    ("works for", "work at"),
    ("work for", "work at"),
    ("working for", "work at"),
    ("works at", "work at"),
    ("working at", "work at"),
    ("employed by", "work at"),
    ("employed at", "work at"),
    ("between me and", "with"),
    ("between us", ""),
    ("the two of us", ""),
    ("me and", ""),
    ("and i", ""),
    ("and me", ""),
    ("a couple of", "2"),
    ("a few", "3"),
    ("two", "2"),
    ("three", "3"),
    ("four", "4"),
    ("five", "5"),
    ("six", "6"),
    ("seven", "7"),
    ("eight", "8"),
    ("nine", "9"),
    ("ten", "10"),
    ("eleven", "11"),
    ("twelve", "12"),
];

/// Lowercase, straight apostrophes, no punctuation around words (but inside addresses
/// and domains), single spaces, [`CANONICAL`] wordings.
fn normalize(question: &str) -> String {
    let lower = question
        .trim()
        .to_lowercase()
        .replace(['’', '‘', '`'], "'")
        .replace(['“', '”'], "\"");
    let spaced: String = lower
        .chars()
        .map(|c| {
            if matches!(c, '?' | '!' | ',' | ';' | '(' | ')' | '[' | ']') {
                ' '
            } else {
                c
            }
        })
        .collect();
    // A full stop or colon ends a word only when no word character follows it
    // ("sam.lee@acme.com" keeps its dots).
    // Dashes and other marks standing alone ("Dana - how many emails?") are no words.
    let words: Vec<&str> = spaced
        .split_whitespace()
        .map(|w| w.trim_end_matches(['.', ':']))
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .collect();
    let mut text = format!(" {} ", words.join(" "));
    for (from, to) in CANONICAL {
        let from = format!(" {from} ");
        while let Some(at) = text.find(&from) {
            text.replace_range(at..at + from.len(), &format!(" {to} "));
        }
    }
    SPACES.replace_all(text.trim(), " ").into_owned()
}

/// The intent of `question` as of `now`, or `None` when the offline engine does not
/// understand it.
pub fn parse(question: &str, now: DateTime<Utc>) -> Option<Intent> {
    parse_text(&normalize(question), now)
}

/// Openings that mark a question as a follow-up of the previous one.
static FOLLOW_UP: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:(?:and|so|ok|okay|also|now) )?(?:(?:what about|how about|same for|same with|and for|and with|what about for|for) )?(.*)$",
    )
});

/// `question` asked after `previous` in the same conversation: pronouns mean the
/// previous question's person ("and her phone?"), and a bare name, field or period
/// changes only that part of the previous question ("what about last year?", "and
/// Sam?", "and the title?"). A question complete in itself is read on its own.
pub fn parse_after(
    question: &str,
    previous: Option<&Intent>,
    now: DateTime<Utc>,
) -> Option<Intent> {
    let text = normalize(question);
    let Some(previous) = previous else {
        return parse_text(&text, now);
    };
    let tail = FOLLOW_UP
        .captures(&text)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().trim().to_owned())
        .unwrap_or_default();
    let marked = tail.len() < text.len();
    if let Some(name) = previous.person() {
        let words: Vec<&str> = tail.split(' ').collect();
        if words
            .iter()
            .any(|w| PRONOUNS.contains(w) || *w == "we" || *w == "us")
        {
            // "her phone" is "<name>'s phone"; "email her" is "email <name>".
            let swapped: Vec<String> = words
                .iter()
                .enumerate()
                .map(|(i, w)| match *w {
                    "his" | "their" | "hers" | "theirs" => format!("{name}'s"),
                    "her"
                        if words.get(i + 1).is_some_and(|next| {
                            !is_vocabulary(next) || field_of(next).is_some()
                        }) =>
                    {
                        format!("{name}'s")
                    }
                    w if PRONOUNS.contains(&w) || w == "we" || w == "us" => name.to_owned(),
                    w => w.to_owned(),
                })
                .collect();
            let swapped = swapped.join(" ");
            if let Some(intent) = parse_text(&swapped, now) {
                return Some(intent);
            }
        }
        // "and her phone?", "and the title?": another field of the same person.
        if marked
            && let Some(field) = tail.rsplit(' ').next().and_then(field_of)
            && tail.split(' ').count() <= 3
        {
            return Some(Intent::ContactField {
                person: name.to_owned(),
                field,
            });
        }
    }
    // "what about last year?": the same question over another period.
    if let Some(found) = find_period(&tail, now)
        && tail.replacen(&found.phrase, "", 1).trim().is_empty()
        && let Some(intent) = previous.with_period(found.period)
    {
        return Some(intent);
    }
    if let Some(intent) = parse_text(&text, now) {
        return Some(intent);
    }
    // "and Sam?": the same question about someone (or some company) else.
    if marked {
        return previous.with_subject(&person(&tail)?);
    }
    None
}

fn parse_text(text: &str, now: DateTime<Utc>) -> Option<Intent> {
    let text = text.to_owned();
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

    if let Some(question) = super::keep_in_touch::parse(&text, now) {
        return Some(Intent::KeepInTouch(question));
    }
    if let Some(c) = SUMMARY.captures(&rest) {
        return person(&c[1]).map(|person| Intent::Summary { person });
    }
    if let Some(who) = super::posts::posting_about(&rest) {
        return person(who).map(|person| Intent::RecentPosts { person });
    }
    // "What did Dana say about the contract?": her messages that mention it.
    if let Some((who, topic)) = super::mail_search::said_about(&rest) {
        return clean(topic).map(|text| Intent::SearchMessages {
            text,
            person: person(who),
            period,
        });
    }
    if DORMANT.is_match(&rest) && !THEIR_REPLY.is_match(&rest) && !MY_REPLY.is_match(&rest) {
        let before = period
            .map(|p| p.from)
            .unwrap_or_else(|| now - Duration::days(90));
        return Some(Intent::Dormant { before });
    }
    // "When did I last hear back from Sam?" asks a date, not for open threads.
    let dated = rest.starts_with("when ");
    // "waiting on a reply from me" is theirs to me: mine to give.
    if THEIR_REPLY.is_match(&rest) && !FROM_ME.is_match(&rest) && !dated {
        return Some(Intent::Unanswered {
            awaiting: Awaiting::TheirReply,
            period,
            person: after_word(&rest, &["to", "from", "with", "on"]),
        });
    }
    if MY_REPLY.is_match(&rest) && !dated {
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
        let person = counted_person(tail).or_else(|| name_in(tail))?;
        return Some(Intent::CountMessages {
            person,
            flow,
            period,
        });
    }
    // "emails with Sam since January: how many?"
    if (rest.contains("how many") || rest.contains("count of"))
        && (rest.contains("email") || rest.contains("times"))
        && let Some(person) = counted_person(&rest).or_else(|| name_in(&rest))
    {
        return Some(Intent::CountMessages {
            person,
            flow: flow_of(&rest),
            period,
        });
    }
    if let Some(c) = WHEN.captures(&rest) {
        let which = c.get(1).or(c.get(2)).map(|m| m.as_str()).unwrap_or("last");
        let person = interaction_person(&rest).or_else(|| name_in(&rest))?;
        let flow = flow_of(&rest);
        return Some(if matches!(which, "first" | "earliest") {
            Intent::FirstInteraction { person, flow }
        } else {
            Intent::LastInteraction { person, flow }
        });
    }
    // "which companies…", "top company", "what company do I email most", but not
    // "what company is Dana at".
    if let Some(c) = TOP_COMPANIES.captures(&rest)
        && (c[2].ends_with("ies") || RANKS.is_match(&rest))
    {
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
    if let Some(c) = COMPANY_PEOPLE.captures(&rest)
        && let Some(company) = clean(&c[1]).filter(|c| !c.split(' ').any(is_vocabulary))
    {
        return Some(Intent::PeopleAt {
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
    if let Some(c) = FIELD_POSSESSIVE.captures(&rest)
        && let Some(p) = person(&c[1])
    {
        return Some(field_question(p, &c[2]));
    }
    if let Some(c) = FIELD_OF.captures(&rest)
        && let Some(p) = person(&c[2])
    {
        return Some(field_question(p, &c[1]));
    }
    if let Some(c) = WHERE_WORKS.captures(&rest) {
        return Some(Intent::ContactField {
            person: person(c.get(1).or(c.get(2))?.as_str())?,
            field: Field::Employer,
        });
    }
    if let Some(c) = WHAT_DOES_DO.captures(&rest) {
        return Some(Intent::ContactField {
            person: person(&c[1])?,
            field: Field::Title,
        });
    }
    if let Some(c) = WHO_IS.captures(&rest)
        && let Some(person) = person(&c[1])
    {
        return Some(Intent::WhoIs { person });
    }
    loose(&rest, period)
}

/// Words of questions that are never part of a name: what is left of a question
/// without them is the name it is about ("how do I reach Dana" → "dana").
const VOCABULARY: &[&str] = &[
    "a",
    "about",
    "actually",
    "again",
    "all",
    "already",
    "also",
    "am",
    "an",
    "and",
    "any",
    "anyone",
    "are",
    "at",
    "back",
    "be",
    "been",
    "between",
    "by",
    "call",
    "can",
    "check",
    "company",
    "contact",
    "contacted",
    "could",
    "count",
    "current",
    "currently",
    "date",
    "day",
    "details",
    "did",
    "do",
    "does",
    "email",
    "emailed",
    "emails",
    "ever",
    "exchange",
    "exchanged",
    "find",
    "first",
    "for",
    "from",
    "get",
    "give",
    "got",
    "had",
    "has",
    "have",
    "hear",
    "heard",
    "how",
    "i",
    "i'd",
    "i'm",
    "in",
    "info",
    "information",
    "is",
    "it",
    "just",
    "know",
    "last",
    "latest",
    "let",
    "list",
    "living",
    "look",
    "many",
    "me",
    "most",
    "much",
    "my",
    "need",
    "now",
    "of",
    "ok",
    "okay",
    "on",
    "or",
    "phone",
    "please",
    "profile",
    "quick",
    "reach",
    "recent",
    "recently",
    "ring",
    "say",
    "see",
    "send",
    "sent",
    "show",
    "so",
    "some",
    "spoke",
    "still",
    "talk",
    "talked",
    "tell",
    "text",
    "the",
    "their",
    "them",
    "this",
    "time",
    "times",
    "title",
    "to",
    "total",
    "up",
    "us",
    "wants",
    "was",
    "we",
    "were",
    "what",
    "what's",
    "when",
    "where",
    "where's",
    "which",
    "who",
    "who's",
    "whose",
    "why",
    "with",
    "work",
    "would",
    "wrote",
    "write",
    "written",
    "you",
    "your",
    "address",
    "thread",
    "threads",
    "conversation",
    "conversations",
    "history",
    "timeline",
    "there",
    "that",
    "these",
    "those",
    "should",
    "will",
    "exactly",
    "person",
    "guy",
    "gal",
    "each",
    "other",
    "both",
    "together",
    "forth",
    "since",
    "until",
    "before",
    "after",
    "ago",
    "use",
    "uses",
    "using",
    "hold",
    "holds",
    "held",
    "came",
    "come",
    "comes",
    "received",
    "receive",
    "speak",
    "spoken",
    "speaks",
    "talks",
    "chat",
    "chatted",
    "emailing",
    "often",
    "overall",
    "altogether",
    "remind",
    "remember",
    "hey",
    "hi",
    "hello",
    "thanks",
    "mr",
    "ms",
    "mrs",
    "dr",
    "colleague",
    "friend",
    "contacts",
    "people",
    "swap",
    "swapped",
    "trade",
    "traded",
    "exchanging",
    "writes",
    "wrote",
    "messaged",
    "between",
    "am",
    "reached",
    "sends",
    "does",
    "ever",
    "there",
    "here",
    "been",
    "being",
    "lately",
    "yet",
    "anything",
    "something",
    "best",
    "good",
    "right",
    "correct",
    "main",
    "primary",
    "personal",
    "office",
    "new",
    "old",
    "full",
    "official",
    "usual",
    "reply",
    "answer",
    "response",
    "replied",
    "answered",
    "start",
    "started",
    "starting",
    "begin",
    "began",
];

fn is_vocabulary(word: &str) -> bool {
    VOCABULARY.contains(&word)
}

/// The longest run of words that are not question words, possessives undone: the
/// name a question is about, however it is worded.
fn name_in(text: &str) -> Option<String> {
    // The longest run; of equals the last, as names tend to end English questions
    // ("the best number for Dana").
    let runs = name_runs(text);
    let best = runs.iter().max_by_key(|run| run.split(' ').count())?;
    person(best)
}

/// The runs of words that are not question words, in order, possessives undone; a
/// possessive ends its run ("dana ito's favourite colour": "dana ito", "favourite
/// colour").
fn name_runs(text: &str) -> Vec<String> {
    let mut runs: Vec<Vec<&str>> = vec![Vec::new()];
    for w in text.split(' ') {
        let (word, possessive) = match w.strip_suffix("'s").or_else(|| w.strip_suffix("s'")) {
            Some(stem) => (stem, true),
            None => (w, false),
        };
        if is_vocabulary(word) {
            runs.push(Vec::new());
            continue;
        }
        runs.last_mut().expect("a run").push(word);
        if possessive {
            runs.push(Vec::new());
        }
    }
    runs.into_iter()
        .filter(|run| !run.is_empty())
        .map(|run| run.join(" "))
        .collect()
}

static LOOSE_PHONE: LazyLock<Regex> = LazyLock::new(|| re(r"\b(?:phone|reach|call|ring|text)\b"));
static LOOSE_COMPANY: LazyLock<Regex> = LazyLock::new(|| re(r"\b(?:company|work at|work)\b"));
static LOOSE_WHEN: LazyLock<Regex> =
    LazyLock::new(|| re(r"\b(last|latest|recent|recently|first|earliest|start\w*|began|begin)\b"));
static LOOSE_WHO: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:who's|tell me about|what do (?:i|you) know about|info on|information on|details|profile)\b|^(?:tell me |do you know |remind me )?who .+ is$",
    )
});

/// Questions the patterns above do not recognise, read by their key words around the
/// name they mention: "Dana phone", "how do I reach Dana", "how many emails did Dana
/// and I exchange". Anything else is not understood.
fn loose(text: &str, period: Option<Period>) -> Option<Intent> {
    let person = name_in(text)?;
    let counting = ["how many", "how much", "count", "total", "number of"]
        .iter()
        .any(|w| text.contains(w));
    if counting && (text.contains("email") || text.contains("times")) || text.contains("how often")
    {
        return Some(Intent::CountMessages {
            person,
            flow: flow_of(text),
            period,
        });
    }
    if text.contains("address") {
        return Some(Intent::ContactField {
            person,
            field: Field::Email,
        });
    }
    if LOOSE_PHONE.is_match(text) {
        return Some(Intent::ContactField {
            person,
            field: Field::Phone,
        });
    }
    if text.contains("title") || text.ends_with(" do") {
        return Some(Intent::ContactField {
            person,
            field: Field::Title,
        });
    }
    if LOOSE_COMPANY.is_match(text) {
        return Some(Intent::ContactField {
            person,
            field: Field::Employer,
        });
    }
    if let Some(c) = LOOSE_WHEN.captures(text)
        && text.starts_with("when")
    {
        let flow = flow_of(text);
        return Some(
            if !matches!(&c[1], "last" | "latest" | "recent" | "recently") {
                Intent::FirstInteraction { person, flow }
            } else {
                Intent::LastInteraction { person, flow }
            },
        );
    }
    if text.contains("emails") || text.contains("thread") || text.contains("conversation") {
        return Some(Intent::Timeline { person, period });
    }
    // A name alone ("Dana Ito?") asks who they are.
    if LOOSE_WHO.is_match(text) || person == text.trim_end_matches("'s") {
        return Some(Intent::WhoIs { person });
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
    // "the best number to reach Dana" asks a field, not a ranking.
    let field = text
        .split(' ')
        .any(|w| matches!(w, "phone" | "address" | "title" | "company" | "details"));
    if !ranks || field {
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

/// The field a [`CANONICAL`] word names; "details" are the contact's card (who is).
fn field_of(word: &str) -> Option<Field> {
    match word {
        "phone" => Some(Field::Phone),
        "email" | "address" => Some(Field::Email),
        "company" => Some(Field::Employer),
        "title" => Some(Field::Title),
        _ => None,
    }
}

/// A field question, or "who is" for a contact's details.
fn field_question(person: String, word: &str) -> Intent {
    match field_of(word) {
        Some(field) => Intent::ContactField { person, field },
        None => Intent::WhoIs { person },
    }
}

/// Which way a count or "when" question looks: "did I email X" is sent, "did X email
/// me" and "hear from X" received, "talk to" or "exchange with" both.
fn flow_of(text: &str) -> Flow {
    // Whole words only: "Marchetti email" is no "i email".
    if FLOW_BOTH.is_match(text) {
        Flow::Both
    } else if FLOW_RECEIVED.is_match(text) && !FLOW_I_SENT.is_match(text) {
        Flow::Received
    } else if FLOW_I_SENT.is_match(text) || FLOW_TO.is_match(text) {
        Flow::Sent
    } else {
        Flow::Both
    }
}

static FLOW_BOTH: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(?:each other|back and forth|swap\w*|trad\w*|exchang\w*|talk\w*|speak|spoke|spoken|interact\w*|between|with|contact\w*|correspond\w*)\b",
    )
});
static FLOW_RECEIVED: LazyLock<Regex> =
    LazyLock::new(|| re(r"\b(?:me|from|hear|heard|receive|received|get|got|came|come)\b"));
static FLOW_I_SENT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\bi (?:(?:first|last|ever) )?(?:email|emailed|send|sent|write|wrote|written|mail|mailed)\b",
    )
});
static FLOW_TO: LazyLock<Regex> = LazyLock::new(|| re(r"\bto\b"));

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

/// Words that stand for a person named earlier in the conversation.
const PRONOUNS: &[&str] = &[
    "him", "her", "them", "his", "hers", "their", "theirs", "he", "she", "they",
];

/// A person reference: a cleaned name without question words around it, not a
/// pronoun.
fn person(raw: &str) -> Option<String> {
    let cleaned = clean(raw)?;
    let words: Vec<&str> = cleaned.split(' ').collect();
    let start = words.iter().position(|w| !is_vocabulary(w))?;
    let end = words.iter().rposition(|w| !is_vocabulary(w))?;
    let name = clean(&words[start..=end].join(" "))?;
    (!PRONOUNS.contains(&name.as_str())
        && !matches!(
            name.as_str(),
            "me" | "i" | "you" | "us" | "anyone" | "someone" | "everyone" | "anybody" | "somebody"
        ))
    .then_some(name)
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
            | Intent::RecentPosts { person }
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

    fn field_of_q(q: &str) -> (String, Field) {
        match parsed(q) {
            Intent::ContactField { person, field } => (person, field),
            other => panic!("{q}: {other:?}"),
        }
    }

    #[test]
    fn fields_in_any_order_and_with_synonyms() {
        for q in [
            "Dana's number",
            "number for Dana",
            "Dana phone",
            "how do I reach Dana?",
            "can you give me Dana's mobile",
        ] {
            assert_eq!(field_of_q(q), ("dana".into(), Field::Phone), "{q}");
        }
        for q in [
            "Dana's role",
            "what does Dana do?",
            "what position does Dana hold",
        ] {
            assert_eq!(field_of_q(q), ("dana".into(), Field::Title), "{q}");
        }
        for q in [
            "who does Dana work for?",
            "Dana's employer",
            "what company is Dana at",
            "which company does Dana work for",
        ] {
            assert_eq!(field_of_q(q), ("dana".into(), Field::Employer), "{q}");
        }
        assert_eq!(
            field_of_q("what address does Dana Ito use?"),
            ("dana ito".into(), Field::Email)
        );
        // A ranking word next to a field is no ranking.
        assert_eq!(
            field_of_q("the best number to reach Dana"),
            ("dana".into(), Field::Phone)
        );
    }

    #[test]
    fn me_and_them_is_both_ways() {
        let q = |text: &str| match parsed(text) {
            Intent::CountMessages { person, flow, .. } => (person, flow),
            other => panic!("{text}: {other:?}"),
        };
        for text in [
            "how many mails between me and Sam?",
            "How many messages have Sam and I exchanged",
            "how many emails have me and Sam sent each other",
            "Sam - how many emails in total?",
            "emails with Sam: how many?",
        ] {
            assert_eq!(q(text), ("sam".into(), Flow::Both), "{text}");
        }
        assert_eq!(
            q("how many times has Sam emailed me"),
            ("sam".into(), Flow::Received)
        );
        // Words, not letters: "Marchetti email" is no "i email".
        assert_eq!(
            q("Sienna Marchetti email count"),
            ("sienna marchetti".into(), Flow::Both)
        );
        assert_eq!(
            q("how many emails did I send Sam"),
            ("sam".into(), Flow::Sent)
        );
        assert!(matches!(
            parsed("when did Dana and I last talk?"),
            Intent::LastInteraction { ref person, flow: Flow::Both } if person == "dana"
        ));
        assert!(matches!(
            parsed("first ever email with Dana"),
            Intent::FirstInteraction { ref person, .. } if person == "dana"
        ));
    }

    #[test]
    fn explicit_periods() {
        let period = |text: &str| match parsed(text) {
            Intent::CountMessages { period, .. } => period.unwrap(),
            other => panic!("{text}: {other:?}"),
        };
        let at = |y, m, d| Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap();
        assert_eq!(
            period("how many emails with Sam in March 2025").from,
            at(2025, 3, 1)
        );
        assert_eq!(
            period("how many emails with Sam since January").from,
            at(2025, 1, 1)
        );
        assert_eq!(
            period("how many emails with Sam over the last six weeks").from,
            now() - Duration::days(42)
        );
        assert_eq!(
            period("how many emails with Sam in Q2").from,
            at(2025, 4, 1)
        );
    }

    #[test]
    fn the_most_asked_questions() {
        for q in [
            "Who should I follow up with?",
            "who owes me a reply?",
            "who am I waiting to hear back from",
        ] {
            assert!(
                matches!(
                    parsed(q),
                    Intent::Unanswered {
                        awaiting: Awaiting::TheirReply,
                        person: None,
                        ..
                    }
                ),
                "{q}"
            );
        }
        assert!(matches!(
            parsed("who's waiting on a reply from me?"),
            Intent::Unanswered {
                awaiting: Awaiting::MyReply,
                ..
            }
        ));
        for q in [
            "Who have I lost touch with?",
            "which contacts have gone quiet",
            "who haven't I been in touch with",
        ] {
            assert_eq!(
                parsed(q),
                Intent::Dormant {
                    before: now() - Duration::days(90)
                },
                "{q}"
            );
        }
    }

    #[test]
    fn follow_ups_keep_what_was_not_said_again() {
        let first = parsed("When did I last talk to Dana Ito?");
        let after = |q: &str| parse_after(q, Some(&first), now()).unwrap_or_else(|| panic!("{q}"));
        assert_eq!(
            after("and her phone?"),
            Intent::ContactField {
                person: "dana ito".into(),
                field: Field::Phone
            }
        );
        assert_eq!(
            after("when did he first email me?"),
            Intent::FirstInteraction {
                person: "dana ito".into(),
                flow: Flow::Received
            }
        );
        assert_eq!(
            after("and Sam?"),
            Intent::LastInteraction {
                person: "sam".into(),
                flow: Flow::Both
            }
        );
        let count = parsed("How many emails did I exchange with Sam this year?");
        let Some(Intent::CountMessages {
            person,
            period: Some(p),
            ..
        }) = parse_after("what about last year?", Some(&count), now())
        else {
            panic!("not a count")
        };
        assert_eq!(person, "sam");
        assert_eq!(p.from, Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap());
        // A complete question stands on its own.
        assert_eq!(
            parse_after("who is Sam?", Some(&first), now()),
            Some(Intent::WhoIs {
                person: "sam".into()
            })
        );
        // Without an earlier question a pronoun names no one.
        assert_eq!(parse_after("and her phone?", None, now()), None);
    }

    #[test]
    fn an_intents_question_reads_back_as_the_intent() {
        let march = Period::new(
            Utc.with_ymd_and_hms(2025, 3, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2025, 4, 1, 0, 0, 0).unwrap(),
        );
        let intents = [
            Intent::CountMessages {
                person: "dana ito".into(),
                flow: Flow::Both,
                period: march,
            },
            Intent::CountMessages {
                person: "dana ito".into(),
                flow: Flow::Sent,
                period: None,
            },
            Intent::CountMessages {
                person: "dana ito".into(),
                flow: Flow::Received,
                period: march,
            },
            Intent::LastInteraction {
                person: "dana ito".into(),
                flow: Flow::Both,
            },
            Intent::LastInteraction {
                person: "dana ito".into(),
                flow: Flow::Received,
            },
            Intent::FirstInteraction {
                person: "dana ito".into(),
                flow: Flow::Sent,
            },
            Intent::WhoIs {
                person: "dana ito".into(),
            },
            Intent::ContactField {
                person: "dana ito".into(),
                field: Field::Phone,
            },
            Intent::ContactField {
                person: "dana ito".into(),
                field: Field::Email,
            },
            Intent::ContactField {
                person: "dana ito".into(),
                field: Field::Title,
            },
            Intent::ContactField {
                person: "dana ito".into(),
                field: Field::Employer,
            },
            Intent::Summary {
                person: "dana ito".into(),
            },
            Intent::Timeline {
                person: "dana ito".into(),
                period: march,
            },
            Intent::PeopleAt {
                company: "acme.com".into(),
                count: true,
            },
            Intent::PeopleAt {
                company: "acme.com".into(),
                count: false,
            },
            Intent::Unanswered {
                awaiting: Awaiting::MyReply,
                period: None,
                person: None,
            },
            Intent::Unanswered {
                awaiting: Awaiting::TheirReply,
                period: march,
                person: Some("dana ito".into()),
            },
            Intent::TopCompanies { limit: 3 },
            Intent::CountContacts,
        ];
        for intent in intents {
            assert_eq!(
                parse(&intent.question(), now()),
                Some(intent.clone()),
                "{}",
                intent.question()
            );
        }
    }

    #[test]
    fn suggestions_use_the_users_names_and_are_all_understood() {
        let people = ["Tessa Whitfield".to_owned(), "Isaac Castellano".to_owned()];
        let questions = suggested(&people, Some("larkspur-capital.com"));
        assert!(questions.iter().any(|q| q.contains("Tessa Whitfield")));
        assert!(questions.iter().any(|q| q.contains("larkspur-capital.com")));
        for q in &questions {
            assert!(parse(q, now()).is_some(), "not understood: {q}");
            assert!(!q.contains("Dana") && !q.contains("acme"), "{q}");
        }
        // A new user with no contacts gets questions that need no name.
        let none = suggested(&[], None);
        assert!(!none.is_empty());
        for q in &none {
            let intent = parse(q, now()).unwrap_or_else(|| panic!("{q}"));
            assert_eq!(intent.person(), None, "{q}");
        }
    }

    #[test]
    fn what_a_question_mentions() {
        let (names, period) = mentions("Dana Ito's favourite colour in 2024?", now());
        assert_eq!(names, ["dana ito", "favourite colour"]);
        assert!(period.is_some());
    }

    #[test]
    fn outside_the_intents_is_none() {
        assert_eq!(parse("what's the weather in Paris", now()), None);
        assert_eq!(parse("", now()), None);
        assert_eq!(parse("write a poem", now()), None);
    }
}
