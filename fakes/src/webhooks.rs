//! Demo WhatsApp (TimelinesAI) and SMS (Twilio) webhook bodies, in the providers'
//! documented wire formats, exchanged with people of the demo Gmail mailbox who have a
//! phone number in their signature, so those contacts show chats next to their mail.

use chrono::{DateTime, Duration, Utc};

use crate::mailbox::PersonTruth;
use crate::mailbox::rng::hash;

/// The demo owner's phone (a reserved 555 number).
pub const OWNER_PHONE: &str = "+14155550100";

const CHATS: [(&str, &str); 6] = [
    (
        "Running 10 minutes late, grab us a table?",
        "No problem, see you soon",
    ),
    (
        "Did you see the proposal I sent over?",
        "Yes, reading it tonight. Looks promising",
    ),
    (
        "Can we move tomorrow's call to 3pm?",
        "3pm works, I'll update the invite",
    ),
    (
        "Thanks for the intro yesterday!",
        "Anytime, glad it was useful",
    ),
    ("Landed, heading to the hotel now", "Great, safe travels"),
    (
        "Quick one: what's the wifi password at the office?",
        "It's on the board by the kitchen",
    ),
];

/// Webhook bodies to post, each with the moment it is delivered: TimelinesAI JSON for
/// WhatsApp, Twilio form bodies for SMS (Twilio's carry no time of their own).
pub struct DemoWebhooks {
    pub whatsapp: Vec<(DateTime<Utc>, String)>,
    pub sms: Vec<(DateTime<Utc>, String)>,
    /// Recorded calls: Twilio call status callbacks, each with its [`crate::calls::DEMO_CALLS`] index.
    pub calls: Vec<(DateTime<Utc>, String, usize)>,
}

/// A short exchange with each of up to six people with phones, in the week before `end`.
pub fn demo_webhooks(owner_name: &str, people: &[PersonTruth], end: DateTime<Utc>) -> DemoWebhooks {
    let mut reachable: Vec<&PersonTruth> =
        people.iter().filter(|p| p.phone_e164.is_some()).collect();
    reachable.sort_by_key(|p| (std::cmp::Reverse(p.message_count), p.id));
    let mut whatsapp = Vec::new();
    let mut sms = Vec::new();
    let mut calls = Vec::new();
    for (i, person) in reachable.iter().take(6).enumerate() {
        let phone = person.phone_e164.as_deref().unwrap_or_default();
        let key = hash(&[3, person.id as u64]);
        let (question, answer) = CHATS[i % CHATS.len()];
        let asked = end - Duration::hours(1 + (key % (24 * 6)) as i64);
        let answered = asked + Duration::minutes(3 + (key % 40) as i64);
        if i < crate::calls::DEMO_CALLS.len() {
            let at = asked - Duration::hours(2);
            calls.push((at, crate::calls::demo_call_status(key, phone, i, at), i));
        }
        if i % 2 == 0 {
            let chat = 880_000 + person.id as u64;
            whatsapp.push((
                asked,
                timelines(
                    key,
                    chat,
                    "received",
                    (&person.name, phone),
                    (owner_name, OWNER_PHONE),
                    question,
                    asked,
                ),
            ));
            whatsapp.push((
                answered,
                timelines(
                    key + 1,
                    chat,
                    "sent",
                    (owner_name, OWNER_PHONE),
                    (&person.name, phone),
                    answer,
                    answered,
                ),
            ));
        } else {
            sms.push((asked, twilio(key, phone, OWNER_PHONE, question)));
            sms.push((answered, twilio(key + 1, OWNER_PHONE, phone, answer)));
        }
    }
    DemoWebhooks {
        whatsapp,
        sms,
        calls,
    }
}

fn timelines(
    key: u64,
    chat: u64,
    direction: &str,
    sender: (&str, &str),
    recipient: (&str, &str),
    text: &str,
    at: DateTime<Utc>,
) -> String {
    let contact = if direction == "received" {
        sender
    } else {
        recipient
    };
    serde_json::json!({
        "event_type": if direction == "received" { "message:received:new" } else { "message:sent:new" },
        "chat": {
            "full_name": contact.0, "chat_id": chat, "is_group": false, "phone": contact.1,
            "chat_url": format!("https://app.timelines.ai/chat/{chat}/messages/")
        },
        "whatsapp_account": { "full_name": if direction == "received" { recipient.0 } else { sender.0 }, "phone": OWNER_PHONE },
        "message": {
            "text": text, "direction": direction, "origin": "WhatsApp",
            "timestamp": at.format("%Y-%m-%d %H:%M:%S %z").to_string(),
            "message_uid": format!("{key:016x}-demo"),
            "sender": { "full_name": sender.0, "phone": sender.1 },
            "recipient": { "full_name": recipient.0, "phone": recipient.1 },
            "attachments": []
        }
    })
    .to_string()
}

fn twilio(key: u64, from: &str, to: &str, body: &str) -> String {
    let sid = format!("SM{:016x}{:016x}", key, hash(&[key]));
    let fields = [
        ("MessageSid", sid.as_str()),
        ("SmsSid", sid.as_str()),
        ("AccountSid", "AC00000000000000000000000000000000"),
        ("From", from),
        ("To", to),
        ("Body", body),
        ("NumMedia", "0"),
        (
            "SmsStatus",
            if from == OWNER_PHONE {
                "sent"
            } else {
                "received"
            },
        ),
        (
            "Direction",
            if from == OWNER_PHONE {
                "outbound-api"
            } else {
                "inbound"
            },
        ),
        ("ApiVersion", "2010-04-01"),
    ];
    fields
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `application/x-www-form-urlencoded` encoding of one value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
