//! Relationship AI without a model: a summary of a relationship, next actions and a
//! draft email, from a contact's stats and recent messages by templates. Pure
//! functions; nothing is ever sent (drafts become a copy button or a Gmail compose link).

use api::Direction;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::answer::{Person, link, message_href};
use super::tools::{ContactDetails, MessageRef};

/// Days without contact after which reconnecting is suggested.
pub const RECONNECT_AFTER_DAYS: i64 = 90;

/// "You and [Dana](/contacts/…) …": who they are, volume, first and last contact,
/// unanswered threads and the next actions.
pub fn summary_text(
    person: &Person,
    details: &ContactDetails,
    recent: &[MessageRef],
    now: DateTime<Utc>,
) -> String {
    let c = &details.contact;
    let role = match (&c.title, &c.company) {
        (Some(t), Some(co)) => format!(" ({t} at {co})"),
        (Some(t), None) => format!(" ({t})"),
        (None, Some(co)) => format!(" ({co})"),
        (None, None) => String::new(),
    };
    let total = details.sent_count + details.received_count;
    let mut parts = vec![format!(
        "You and {}{role} have exchanged {total} emails ({} sent, {} received){}.",
        person.link(),
        details.sent_count,
        details.received_count,
        details
            .first_interaction_at
            .map(|at| format!(" since {}", at.format("%Y-%m-%d")))
            .unwrap_or_default()
    )];
    if let Some(last) = recent.first() {
        let subject = last.subject.as_deref().unwrap_or("(no subject)");
        let cited = message_href(last)
            .map(|href| link(subject, &href))
            .unwrap_or_else(|| subject.to_owned());
        parts.push(format!(
            "Last interaction {} ({} days ago): {cited}.",
            last.at.format("%Y-%m-%d"),
            (now - last.at).num_days().max(0)
        ));
    }
    parts.push(format!("Relationship strength {}/100.", c.strength));
    let actions = next_actions(details, now);
    if !actions.is_empty() {
        parts.push(format!("Next: {}", actions.join(" ")));
    }
    parts.join(" ")
}

/// Suggestions from the stats, most urgent first.
pub fn next_actions(details: &ContactDetails, now: DateTime<Utc>) -> Vec<String> {
    let mut actions = Vec::new();
    if details.unanswered_inbound > 0 {
        actions.push(format!(
            "Reply to their {} unanswered thread(s).",
            details.unanswered_inbound
        ));
    }
    match details.contact.last_interaction_at {
        Some(last) if (now - last).num_days() >= RECONNECT_AFTER_DAYS => actions.push(format!(
            "Reconnect: you haven't been in touch for {} days.",
            (now - last).num_days()
        )),
        None => actions.push("Introduce yourself: you have no emails with them yet.".into()),
        _ => {}
    }
    if details.sent_count >= 3 && details.received_count * 3 < details.sent_count {
        actions.push("Most of your emails go unanswered: try a shorter, direct question.".into());
    }
    if actions.is_empty() {
        actions.push("Nothing pending: keep the conversation going.".into());
    }
    actions
}

/// An email for the user to review, copy or open in Gmail. Never sent by Rapport.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Draft {
    pub to: Option<String>,
    pub subject: String,
    pub body: String,
}

impl Draft {
    /// Gmail's compose window with the draft filled in.
    pub fn gmail_compose_url(&self) -> String {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("view", "cm")
            .append_pair("fs", "1")
            .append_pair("to", self.to.as_deref().unwrap_or_default())
            .append_pair("su", &self.subject)
            .append_pair("body", &self.body)
            .finish();
        format!("https://mail.google.com/mail/?{query}")
    }
}

/// A template draft: a reply to their latest unanswered message, a reconnect note after
/// a long gap, else a follow-up on the latest thread. `recent` is newest first.
pub fn template_draft(
    details: &ContactDetails,
    recent: &[MessageRef],
    sender_name: &str,
    now: DateTime<Utc>,
) -> Draft {
    let c = &details.contact;
    let first_name = c
        .name
        .as_deref()
        .and_then(|n| n.split_whitespace().next())
        .unwrap_or("there");
    let sign = sender_name.split_whitespace().next().unwrap_or(sender_name);
    let latest_inbound = recent
        .iter()
        .find(|m| m.direction == Some(Direction::Inbound));
    let gap_days = c.last_interaction_at.map(|at| (now - at).num_days());
    let (subject, middle) = match (details.unanswered_inbound > 0, latest_inbound, gap_days) {
        (true, Some(m), _) => (
            reply_subject(m.subject.as_deref()),
            "Thanks for your message, and sorry for the slow reply. ".to_owned()
                + "Here are my thoughts: …",
        ),
        (_, _, Some(days)) if days >= RECONNECT_AFTER_DAYS => (
            "Catching up".to_owned(),
            format!(
                "It has been a while since we last spoke ({} months). How are things going{}? Would you have time for a quick call in the next couple of weeks?",
                days / 30,
                c.company.as_deref().map(|co| format!(" at {co}")).unwrap_or_default()
            ),
        ),
        _ => match recent.first() {
            Some(m) => (
                reply_subject(m.subject.as_deref()),
                "Following up on our last conversation: is there anything you need from me to move this forward?".to_owned(),
            ),
            None => (
                "Hello".to_owned(),
                "I'd love to connect. Would you have time for a short call?".to_owned(),
            ),
        },
    };
    Draft {
        to: c.emails.first().cloned(),
        subject,
        body: format!("Hi {first_name},\n\n{middle}\n\nBest,\n{sign}"),
    }
}

fn reply_subject(subject: Option<&str>) -> String {
    let subject = subject.unwrap_or("").trim();
    if subject.is_empty() {
        "Following up".into()
    } else if subject.to_lowercase().starts_with("re:") {
        subject.to_owned()
    } else {
        format!("Re: {subject}")
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};
    use uuid::Uuid;

    use api::Channel;

    use super::*;
    use crate::ask::tools::ContactHit;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 6, 30, 12, 0, 0).unwrap()
    }

    fn details(unanswered: i32, days_since: i64, sent: i32, received: i32) -> ContactDetails {
        ContactDetails {
            contact: ContactHit {
                id: Uuid::nil(),
                name: Some("Dana Ito".into()),
                emails: vec!["dana@acme.com".into()],
                title: Some("CTO".into()),
                company_id: None,
                company: Some("Acme".into()),
                company_domain: Some("acme.com".into()),
                email_count: sent + received,
                strength: 40,
                last_interaction_at: Some(now() - Duration::days(days_since)),
            },
            phones: vec![],
            links: vec![],
            sent_count: sent,
            received_count: received,
            first_interaction_at: Some(now() - Duration::days(400)),
            unanswered_inbound: unanswered,
        }
    }

    fn message(subject: &str, inbound: bool) -> MessageRef {
        MessageRef {
            activity_id: Uuid::nil(),
            thread_key: Some("t1".into()),
            contact_id: Some(Uuid::nil()),
            at: now() - Duration::days(3),
            channel: Channel::Email,
            direction: Some(if inbound {
                Direction::Inbound
            } else {
                Direction::Outbound
            }),
            subject: Some(subject.into()),
            snippet: None,
        }
    }

    #[test]
    fn actions_follow_the_stats() {
        let pending = next_actions(&details(2, 3, 5, 5), now());
        assert_eq!(pending, ["Reply to their 2 unanswered thread(s)."]);
        let quiet = next_actions(&details(0, 120, 9, 1), now());
        assert!(quiet[0].starts_with("Reconnect: you haven't been in touch for 120 days"));
        assert!(quiet[1].contains("unanswered"));
        assert_eq!(next_actions(&details(0, 3, 4, 4), now()).len(), 1);
    }

    #[test]
    fn drafts_reply_to_the_unanswered_thread_or_reconnect() {
        let recent = [message("Pricing", true)];
        let reply = template_draft(&details(1, 3, 4, 4), &recent, "Alex Morgan", now());
        assert_eq!(reply.subject, "Re: Pricing");
        assert!(reply.body.starts_with("Hi Dana,") && reply.body.ends_with("Best,\nAlex"));
        assert_eq!(reply.to.as_deref(), Some("dana@acme.com"));
        let reconnect = template_draft(&details(0, 200, 4, 4), &recent, "Alex Morgan", now());
        assert_eq!(reconnect.subject, "Catching up");
        assert!(reconnect.body.contains("6 months") && reconnect.body.contains("at Acme"));
        let url = reply.gmail_compose_url();
        assert!(
            url.starts_with(
                "https://mail.google.com/mail/?view=cm&fs=1&to=dana%40acme.com&su=Re%3A+Pricing"
            ),
            "{url}"
        );
    }

    #[test]
    fn summaries_cite_the_contact_and_last_message() {
        let person = Person {
            contact_ids: vec![Uuid::nil()],
            name: Some("Dana Ito".into()),
            emails: vec!["dana@acme.com".into()],
        };
        let text = summary_text(
            &person,
            &details(1, 3, 4, 5),
            &[message("Pricing", true)],
            now(),
        );
        assert!(
            text.starts_with(&format!(
                "You and [Dana Ito](/contacts/{}) (CTO at Acme) have exchanged 9 emails",
                Uuid::nil()
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "[Pricing](/contacts/{0}#activity-{0})",
                Uuid::nil()
            )),
            "{text}"
        );
        assert!(
            text.contains("Reply to their 1 unanswered thread(s)."),
            "{text}"
        );
    }
}
