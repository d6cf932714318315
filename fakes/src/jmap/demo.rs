//! The demo Fastmail account: personal mail with the people of the demo Gmail mailbox
//! (so the same contacts appear across channels), plus a little bulk mail for the spam
//! rules to catch. Deterministic for a given cast and end date.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};

use super::store::{JmapAccount, JmapAddress, JmapEmail, JmapMailbox};
use crate::mailbox::PersonTruth;
use crate::mailbox::rng::hash;

/// What a friend writes about, and how the owner answers.
const TOPICS: [(&str, &str, &str); 10] = [
    (
        "Dinner on Friday?",
        "Are you free for dinner on Friday? That new place on the corner finally opened.",
        "Friday works. Let's say 7:30, I'll book a table.",
    ),
    (
        "Photos from the weekend",
        "Here are the photos from Saturday, the one by the lake came out really well.",
        "These are great, thank you! Framing the lake one.",
    ),
    (
        "Book recommendation",
        "Finished the book you lent me. Loved it. Any other recommendations?",
        "Glad you liked it. Try 'The Overstory' next, you'll like it even more.",
    ),
    (
        "Coffee next week",
        "Fancy a coffee next week? I'd love to hear how the new role is going.",
        "Yes please, Tuesday morning near the office?",
    ),
    (
        "Running club",
        "We're starting a Sunday running club, 10k at an easy pace. Want to join?",
        "Count me in for the first one at least.",
    ),
    (
        "Moving house",
        "We're moving at the end of the month. Could you help with the sofa?",
        "Of course, just tell me the date and time.",
    ),
    (
        "Concert tickets",
        "I have a spare ticket for the concert on the 14th if you want it.",
        "Yes! How much do I owe you?",
    ),
    (
        "Birthday plans",
        "Planning something small for Sam's birthday. Are you around on the 21st?",
        "I'm around, happy to bring dessert.",
    ),
    (
        "Holiday recommendations",
        "You went to Portugal last year, right? Where should we stay in Lisbon?",
        "Stay in Alfama, and don't miss the tram up to the castle.",
    ),
    (
        "Quick question about the flat",
        "Is the spare room still free next month? A friend needs a place for a week.",
        "It is, they're welcome. I'll leave the key with the neighbour.",
    ),
];

/// Bulk senders the default name patterns and the user's blocklist are meant for.
const BULK: [(&str, &str, &str); 3] = [
    (
        "Mega Deals Newsletter",
        "deals@megadeals-mail.example",
        "Last chance: 70% off everything",
    ),
    (
        "Prize Notification",
        "winner@prize-claims.example",
        "You have won a gift card, claim now",
    ),
    (
        "Crypto Alerts",
        "alerts@coin-signals.example",
        "This coin will 100x this week",
    ),
];

const INBOX: &str = "mb-inbox";
const SENT: &str = "mb-sent";

/// The account for `owner` (the Fastmail address) with mail from up to 20 of `people`
/// over the 60 days before `end`.
pub fn demo_account(
    owner: JmapAddress,
    token: &str,
    password: &str,
    people: &[PersonTruth],
    end: DateTime<Utc>,
) -> JmapAccount {
    let mailboxes = [
        (INBOX, "Inbox", Some("inbox")),
        (SENT, "Sent", Some("sent")),
        ("mb-archive", "Archive", Some("archive")),
        ("mb-junk", "Spam", Some("junk")),
        ("mb-trash", "Trash", Some("trash")),
    ]
    .into_iter()
    .map(|(id, name, role)| JmapMailbox {
        id: id.to_owned(),
        name: name.to_owned(),
        role: role.map(str::to_owned),
    })
    .collect();

    let mut friends: Vec<&PersonTruth> = people.iter().filter(|p| !p.emails.is_empty()).collect();
    friends.sort_by_key(|p| (std::cmp::Reverse(p.message_count), p.id));
    friends.truncate(20);

    let mut emails = Vec::new();
    for (n, friend) in friends.iter().enumerate() {
        let address = JmapAddress {
            name: Some(friend.name.clone()),
            email: friend.emails[0].clone(),
        };
        for round in 0..(1 + hash(&[friend.id as u64, 1]) % 3) {
            let key = hash(&[friend.id as u64, round]);
            let (subject, ask, answer) = TOPICS[(key % TOPICS.len() as u64) as usize];
            let asked = end
                - Duration::hours(2)
                - Duration::minutes((key % (60 * 24 * 60)) as i64)
                - Duration::hours(n as i64);
            let thread = format!("t{key:x}");
            let first = message(
                &format!("m{key:x}a"),
                &thread,
                address.clone(),
                owner.clone(),
                subject,
                &format!("Hi,\n\n{ask}\n\n{}", first_name(&friend.name)),
                asked,
                None,
                INBOX,
                !key.is_multiple_of(4),
            );
            let first_id = first.message_id.clone();
            emails.push(first);
            let replied = asked + Duration::minutes(20 + (key % 600) as i64);
            if !key.is_multiple_of(3) && replied < end {
                emails.push(message(
                    &format!("m{key:x}b"),
                    &thread,
                    owner.clone(),
                    address.clone(),
                    &format!("Re: {subject}"),
                    &format!(
                        "{answer}\n\n{}",
                        first_name(owner.name.as_deref().unwrap_or(""))
                    ),
                    replied,
                    Some(first_id),
                    SENT,
                    true,
                ));
            }
        }
    }
    for (i, (name, email, subject)) in BULK.iter().enumerate() {
        emails.push(message(
            &format!("bulk{i}"),
            &format!("tbulk{i}"),
            JmapAddress {
                name: Some((*name).to_owned()),
                email: (*email).to_owned(),
            },
            owner.clone(),
            subject,
            "Click here to unsubscribe.",
            end - Duration::hours(5 + 17 * i as i64),
            None,
            INBOX,
            false,
        ));
    }
    JmapAccount {
        username: owner.email.clone(),
        password: password.to_owned(),
        token: token.to_owned(),
        mailboxes,
        emails,
    }
}

fn first_name(name: &str) -> &str {
    name.split_whitespace().next().unwrap_or(name)
}

#[allow(clippy::too_many_arguments)]
fn message(
    id: &str,
    thread: &str,
    from: JmapAddress,
    to: JmapAddress,
    subject: &str,
    text: &str,
    at: DateTime<Utc>,
    in_reply_to: Option<String>,
    mailbox: &str,
    seen: bool,
) -> JmapEmail {
    JmapEmail {
        id: id.to_owned(),
        message_id: format!("{id}@demo.fastmail.example"),
        in_reply_to,
        thread_id: thread.to_owned(),
        from: vec![from],
        to: vec![to],
        cc: Vec::new(),
        subject: subject.to_owned(),
        received_at: at,
        text: text.to_owned(),
        keywords: if seen {
            BTreeSet::from(["$seen".to_owned()])
        } else {
            BTreeSet::new()
        },
        mailbox_ids: BTreeSet::from([mailbox.to_owned()]),
    }
}
