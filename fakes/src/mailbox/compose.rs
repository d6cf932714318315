//! Writing personal mail: greeting, body, sign-off, signature, and the
//! client-specific way a reply quotes or forwards the previous message.
//! Text is produced once and rendered to both text/plain and HTML so the two
//! alternatives of a message always say the same thing.

use chrono::{DateTime, Utc};
use rand::Rng;

use super::content::{self, INJECTION_BODY, TOPICS, Topic};
use super::encode::html_escape;
use super::people::{Client, DisplayStyle, Person};
use super::rng::{Stream, chance, stream};
use super::signature;
use super::threads::{Cast, Step, ThreadKind, ThreadPlan, Who};

/// Thread-wide facts every message of a conversation shares.
pub(crate) struct ThreadText {
    pub(crate) topic: &'static Topic,
    pub(crate) subject: String,
    /// A third person mentioned in intros ("Intro: X <> you").
    pub(crate) mentioned: String,
}

/// Content-stream key for thread-level choices, disjoint from message positions.
const THREAD_KEY: u64 = 1 << 32;

pub(crate) fn thread_text(seed: u64, t: u32, plan: &ThreadPlan, cast: &Cast) -> ThreadText {
    let mut rng = stream(seed, Stream::Content, u64::from(t), THREAD_KEY);
    let topic = &TOPICS[rng.random_range(0..TOPICS.len())];
    let mentioned = cast.people[cast.popularity.sample(&mut rng)].full_name();
    let subject = if cast.people[plan.actor as usize].language == super::people::Language::German
        && chance(&mut rng, 500)
    {
        "Angebot für Q3 – Rückfragen".to_string()
    } else {
        content::subject(&mut rng, topic, &mentioned)
    };
    ThreadText {
        topic,
        subject,
        mentioned,
    }
}

/// The display name a client writes for `who` (None for bare addresses).
pub(crate) fn display_name(person: &Person) -> Option<String> {
    match person.display {
        DisplayStyle::Normal => Some(person.full_name()),
        DisplayStyle::LastFirst => Some(format!("{}, {}", person.last, person.first)),
        DisplayStyle::Bare => None,
    }
}

/// `Name <addr>` for use inside quoted attributions (plain text, no encoding).
pub(crate) fn plain_mailbox(cast: &Cast, who: Who) -> String {
    let person = cast.person(who);
    format!("{} <{}>", person.full_name(), cast.address(who))
}

/// New content of one message, before quoting.
pub(crate) struct Written {
    /// Greeting, paragraphs and sign-off.
    pub(crate) body: Vec<String>,
    /// Signature block lines, or the "Sent from my iPhone" footer.
    pub(crate) footer: Vec<String>,
    /// Whether `footer` is the sender's real signature.
    pub(crate) signature: bool,
}

impl Written {
    pub(crate) fn text(&self) -> String {
        let mut out = self.body.join("\n\n");
        if !self.footer.is_empty() {
            out.push_str("\n\n");
            out.push_str(&self.footer.join("\n"));
        }
        out
    }

    pub(crate) fn html(&self) -> String {
        let mut out = String::new();
        for para in &self.body {
            out.push_str("<div>");
            out.push_str(&html_escape(para).replace('\n', "<br>"));
            out.push_str("</div><div><br></div>");
        }
        if !self.footer.is_empty() {
            let class = if self.signature {
                "gmail_signature"
            } else {
                "footer"
            };
            let lines: Vec<String> = self.footer.iter().map(|l| html_escape(l)).collect();
            out.push_str(&format!(
                "<div class=\"{class}\">{}</div>",
                lines.join("<br>")
            ));
        }
        out
    }
}

/// Writes message `pos` of a personal thread. Pure in (seed, thread, pos), so
/// the next message can quote it without storing anything.
pub(crate) fn write(
    seed: u64,
    t: u32,
    pos: usize,
    kind: ThreadKind,
    steps: &[Step],
    text: &ThreadText,
    cast: &Cast,
) -> Written {
    let mut rng = stream(seed, Stream::Content, u64::from(t), pos as u64);
    let step = &steps[pos];
    let sender = cast.person(step.from);
    let footer = footer(step, sender, cast);
    let signature = step.signed;
    if kind == ThreadKind::Injection {
        return Written {
            body: vec![INJECTION_BODY.to_string()],
            footer,
            signature,
        };
    }
    let addressee = cast.person(step.to[0]);
    let mut body = Vec::new();
    if step.forward {
        body.push(format!(
            "Hi {}, forwarding this — see below.",
            addressee.first
        ));
    } else {
        if pos == 0 || chance(&mut rng, 600) {
            body.push(content::greeting(
                &mut rng,
                &addressee.first,
                sender.language,
            ));
        }
        body.extend(content::paragraphs(
            &mut rng,
            text.topic,
            pos > 0,
            sender.language,
            &text.mentioned,
        ));
    }
    body.push(content::sign_off(&mut rng, &sender.first, sender.language));
    Written {
        body,
        footer,
        signature,
    }
}

fn footer(step: &Step, sender: &Person, cast: &Cast) -> Vec<String> {
    if step.from_phone {
        return vec!["Sent from my iPhone".to_string()];
    }
    if !step.signed {
        return Vec::new();
    }
    // Titles change on the same history-relative clock as steps.
    signature::lines(sender, &cast.companies, step.at_ms).unwrap_or_default()
}

/// How a reply embeds the previous message, in the replier's client style.
pub(crate) struct Quote {
    pub(crate) text: String,
    pub(crate) html: String,
}

pub(crate) fn quote(
    replier: &Person,
    previous: &Written,
    prev_step: &Step,
    prev_at: DateTime<Utc>,
    subject: &str,
    cast: &Cast,
    outlook_original: bool,
) -> Quote {
    let prev_text = previous.text();
    let from = plain_mailbox(cast, prev_step.from);
    let to: Vec<String> = prev_step
        .to
        .iter()
        .map(|w| plain_mailbox(cast, *w))
        .collect();
    // Clients show the quoted message's time in the replier's own zone.
    let when = replier.zone.local(prev_at);
    let inner_html = previous.html();
    let client = replier.client;
    match client {
        Client::Outlook => {
            let head = if outlook_original {
                "-----Original Message-----".to_string()
            } else {
                "________________________________".to_string()
            };
            let sent = when.format("%A, %B %-d, %Y %-I:%M %p");
            let block = format!(
                "{head}\nFrom: {from}\nSent: {sent}\nTo: {}\nSubject: {subject}\n\n{prev_text}",
                to.join("; ")
            );
            let html = format!(
                "<hr><div id=\"divRplyFwdMsg\"><b>From:</b> {}<br><b>Sent:</b> {sent}<br><b>Subject:</b> {}</div><div>{inner_html}</div>",
                html_escape(&from),
                html_escape(subject)
            );
            Quote {
                text: format!("\n\n{block}"),
                html,
            }
        }
        Client::AppleMail => {
            let attribution = format!(
                "On {}, at {}, {from} wrote:",
                when.format("%b %-d, %Y"),
                when.format("%H:%M")
            );
            let text = prefixed(&format!("{attribution}\n\n{prev_text}"));
            let html = format!(
                "<blockquote type=\"cite\">{}<br><br>{inner_html}</blockquote>",
                html_escape(&attribution)
            );
            Quote {
                text: format!("\n\n{text}"),
                html,
            }
        }
        Client::Gmail | Client::Thunderbird => {
            let attribution = if client == Client::Gmail {
                format!(
                    "On {} at {} {from} wrote:",
                    when.format("%a, %b %-d, %Y"),
                    when.format("%-I:%M %p")
                )
            } else {
                format!(
                    "On {}, {} wrote:",
                    when.format("%-m/%-d/%y %H:%M"),
                    cast.person(prev_step.from).full_name()
                )
            };
            let html = format!(
                "<div class=\"gmail_quote\"><div dir=\"ltr\" class=\"gmail_attr\">{}<br></div><blockquote class=\"gmail_quote\" style=\"margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex\">{inner_html}</blockquote></div>",
                html_escape(&attribution)
            );
            Quote {
                text: format!("\n\n{attribution}\n\n{}", prefixed(&prev_text)),
                html,
            }
        }
    }
}

/// The Gmail forwarded-message block.
pub(crate) fn forwarded(
    previous: &Written,
    prev_step: &Step,
    prev_at: DateTime<Utc>,
    subject: &str,
    cast: &Cast,
) -> Quote {
    let from = plain_mailbox(cast, prev_step.from);
    let to: Vec<String> = prev_step
        .to
        .iter()
        .map(|w| plain_mailbox(cast, *w))
        .collect();
    let when = cast.owner.zone.local(prev_at);
    let date = when.format("%a, %b %-d, %Y at %-I:%M %p");
    let head = format!(
        "---------- Forwarded message ---------\nFrom: {from}\nDate: {date}\nSubject: {subject}\nTo: {}",
        to.join(", ")
    );
    Quote {
        text: format!("\n\n{head}\n\n{}", previous.text()),
        html: format!(
            "<div class=\"gmail_quote\">{}<br><br>{}</div>",
            html_escape(&head).replace('\n', "<br>"),
            previous.html()
        ),
    }
}

/// Prefixes every line with "> " (">" for empty lines), as MUAs quote.
fn prefixed(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                ">".to_string()
            } else {
                format!("> {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}
