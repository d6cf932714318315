//! Non-person senders: newsletters, mailing lists, notification robots and
//! spammers. None of them are contacts; Rapport must learn to ignore them,
//! so their mail carries the bulk markers (List-Id, List-Unsubscribe,
//! Precedence, Auto-Submitted, noreply addresses) real senders use.

use rand::Rng;

use super::names::{FIRST_NAMES, LAST_NAMES, slug};
use super::rng::{Gen, chance, pick};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BulkKind {
    Newsletter,
    MailingList,
    Notification,
}

#[derive(Clone, Debug)]
pub(crate) struct BulkSender {
    pub(crate) kind: BulkKind,
    /// Publication, list or service name.
    pub(crate) name: String,
    pub(crate) address: String,
    pub(crate) domain: String,
}

/// Extra headers and content for one broadcast message.
pub(crate) struct Broadcast {
    pub(crate) display: Option<String>,
    pub(crate) subject: String,
    pub(crate) text: String,
    pub(crate) html: String,
    pub(crate) headers: Vec<(&'static str, String)>,
}

const PUBLICATION_WORDS: &[&str] = &[
    "Morning",
    "Ledger",
    "Signal",
    "Harbor",
    "Compass",
    "Northstar",
    "Pulse",
    "Brief",
    "Lantern",
    "Dispatch",
    "Almanac",
    "Beacon",
    "Circuit",
    "Field",
    "Margin",
];

const SERVICES: &[(&str, &str)] = &[
    ("Docket", "docket.app"),
    ("Tracklight", "tracklight.io"),
    ("Paybridge", "paybridge.com"),
    ("Cloudvault", "cloudvault.net"),
    ("Shipyard CI", "shipyard-ci.dev"),
    ("Slotwise", "slotwise.com"),
    ("Receiptly", "receiptly.co"),
    ("Harbor Bank", "alerts.harborbank-online.com"),
    ("Wayfarer Travel", "wayfarer-travel.com"),
    ("Parcelpoint", "parcelpoint.co.uk"),
];

const ROBOT_LOCALS: &[&str] = &[
    "noreply",
    "no-reply",
    "notifications",
    "do-not-reply",
    "alerts",
    "notify",
];

/// Builds the pool of broadcast senders; addresses are unique.
pub(crate) fn pool(rng: &mut Gen, newsletters: usize, lists: usize) -> Vec<BulkSender> {
    let mut out: Vec<BulkSender> = Vec::new();
    let mut push = |sender: BulkSender| {
        if !out.iter().any(|s| s.address == sender.address) {
            out.push(sender);
        }
    };
    for i in 0..newsletters {
        let a = pick(rng, PUBLICATION_WORDS);
        let b = pick(rng, PUBLICATION_WORDS);
        let name = format!("The {a} {b}");
        let domain = format!(
            "{}.{}{}.{}",
            pick(rng, &["mail", "news", "email"]),
            slug(a),
            slug(b),
            pick(rng, &["com", "io", "news", "co.uk"])
        );
        let local = pick(rng, &["newsletter", "hello", "digest", "news", "editors"]);
        push(BulkSender {
            kind: BulkKind::Newsletter,
            address: format!(
                "{local}{}@{domain}",
                if i >= 40 {
                    i.to_string()
                } else {
                    String::new()
                }
            ),
            name,
            domain,
        });
    }
    for i in 0..lists {
        let topic = pick(
            rng,
            &[
                "platform-dev",
                "founders",
                "rust-meetup",
                "data-eng",
                "alumni",
                "design-crit",
                "sre-oncall",
            ],
        );
        let city = pick(
            rng,
            &["berlin", "london", "sf", "sydney", "toronto", "remote"],
        );
        let list = format!(
            "{topic}-{city}{}",
            if i >= 40 {
                i.to_string()
            } else {
                String::new()
            }
        );
        let domain = if chance(rng, 500) {
            "googlegroups.com".to_string()
        } else {
            format!(
                "lists.{}.org",
                pick(
                    rng,
                    &[
                        "opensource-collective",
                        "civic-tech",
                        "pyladies-hub",
                        "meetup-network"
                    ]
                )
            )
        };
        push(BulkSender {
            kind: BulkKind::MailingList,
            name: list.replace('-', " "),
            address: format!("{list}@{domain}"),
            domain,
        });
    }
    for &(service, domain) in SERVICES {
        let local = pick(rng, ROBOT_LOCALS);
        push(BulkSender {
            kind: BulkKind::Notification,
            name: service.to_string(),
            address: format!("{local}@{domain}"),
            domain: domain.to_string(),
        });
    }
    out
}

fn random_name(rng: &mut Gen) -> String {
    format!("{} {}", pick(rng, FIRST_NAMES), pick(rng, LAST_NAMES))
}

/// Content and headers for one message from `sender` to `owner_email`.
pub(crate) fn broadcast(
    rng: &mut Gen,
    sender: &BulkSender,
    owner_email: &str,
    serial: u64,
) -> Broadcast {
    let unsubscribe = format!(
        "<mailto:unsubscribe@{}?subject=unsubscribe>, <https://{}/u/{serial:x}>",
        sender.domain, sender.domain
    );
    match sender.kind {
        BulkKind::Newsletter => {
            let subject = pick(
                rng,
                &[
                    "This week: the quiet return of on-prem",
                    "5 charts that explain Q3",
                    "Your Friday reading list",
                    "Why every team is rethinking onboarding",
                    "Issue #{n}: pricing pages that convert",
                ],
            )
            .replace("{n}", &(serial % 300).to_string());
            let text = format!(
                "{}\n\n{subject}\n\nRead online: https://{}/issues/{serial:x}\n\nYou are receiving this because you subscribed with {owner_email}.\nUnsubscribe: https://{}/u/{serial:x}",
                sender.name, sender.domain, sender.domain
            );
            // A remote header image and a tracking pixel, as newsletters send them:
            // the reader must fetch neither before the user allows remote images.
            let html = format!(
                "<html><body><table width=\"600\" align=\"center\"><tr><td><h1>{}</h1><img src=\"https://{}/img/{serial:x}/header.png\" width=\"600\" height=\"200\" alt=\"Issue header\"><h2>{subject}</h2><p>Read the full issue <a href=\"https://{}/issues/{serial:x}\">online</a>.</p><p style=\"font-size:11px\">You are receiving this because you subscribed with {owner_email}. <a href=\"https://{}/u/{serial:x}\">Unsubscribe</a></p><img src=\"https://{}/o/{serial:x}.gif\" width=\"1\" height=\"1\" alt=\"\"></td></tr></table></body></html>",
                sender.name, sender.domain, sender.domain, sender.domain, sender.domain
            );
            Broadcast {
                display: Some(sender.name.clone()),
                subject,
                text,
                html,
                headers: vec![
                    (
                        "List-Id",
                        format!("{} <{}.{}>", sender.name, serial % 7 + 1, sender.domain),
                    ),
                    ("List-Unsubscribe", unsubscribe),
                    (
                        "List-Unsubscribe-Post",
                        "List-Unsubscribe=One-Click".to_string(),
                    ),
                    ("Precedence", "bulk".to_string()),
                ],
            }
        }
        BulkKind::MailingList => {
            let poster = random_name(rng);
            let subject = format!(
                "[{}] {}",
                sender.name,
                pick(
                    rng,
                    &[
                        "Meetup next Thursday — venue change",
                        "RFC: moving CI to self-hosted runners",
                        "Looking for a co-organiser",
                        "Slides from last night",
                        "Job: staff engineer (remote, EU)",
                    ]
                )
            );
            let text = format!(
                "Hi all,\n\nSharing this with the group — details below, replies welcome on list.\n\n{poster}\n\n--\nYou received this message because you are subscribed to the {} list.\nTo unsubscribe, email unsubscribe@{}",
                sender.name, sender.domain
            );
            let html = format!(
                "<div>Hi all,<br><br>Sharing this with the group — details below, replies welcome on list.<br><br>{}</div><div style=\"color:#777\">--<br>You received this message because you are subscribed to the {} list.</div>",
                super::encode::html_escape(&poster),
                sender.name
            );
            let list_id = format!("<{}>", sender.address.replace('@', "."));
            Broadcast {
                display: Some(format!("'{poster}' via {}", sender.name)),
                subject,
                text,
                html,
                headers: vec![
                    ("List-Id", format!("{} {list_id}", sender.name)),
                    ("List-Post", format!("<mailto:{}>", sender.address)),
                    ("List-Unsubscribe", unsubscribe),
                    ("Precedence", "list".to_string()),
                    ("Reply-To", sender.address.clone()),
                ],
            }
        }
        BulkKind::Notification => {
            let actor = random_name(rng);
            let (display, subject) = match rng.random_range(0..5) {
                0 => (
                    format!("{actor} via {}", sender.name),
                    format!("{actor} shared \"Q3 planning\" with you"),
                ),
                1 => (
                    format!("{actor} (via {})", sender.name),
                    format!("{actor} mentioned you in a comment"),
                ),
                2 => (
                    sender.name.clone(),
                    format!(
                        "Security alert: new sign-in to your {} account",
                        sender.name
                    ),
                ),
                3 => (
                    sender.name.clone(),
                    format!("Your receipt from {} #{:04}", sender.name, serial % 10000),
                ),
                _ => (
                    sender.name.clone(),
                    "Your weekly activity summary".to_string(),
                ),
            };
            let text = format!(
                "{subject}\n\nView it in {}: https://{}/n/{serial:x}\n\nThis is an automated message, please do not reply.",
                sender.name, sender.domain
            );
            let html = format!(
                "<html><body><p>{}</p><p><a href=\"https://{}/n/{serial:x}\">Open {}</a></p><p style=\"color:#999\">This is an automated message, please do not reply.</p></body></html>",
                super::encode::html_escape(&subject),
                sender.domain,
                sender.name
            );
            Broadcast {
                display: Some(display),
                subject,
                text,
                html,
                headers: vec![
                    ("Auto-Submitted", "auto-generated".to_string()),
                    ("X-Auto-Response-Suppress", "All".to_string()),
                ],
            }
        }
    }
}

/// Spam and junk senders live on throwaway domains and are never contacts.
pub(crate) fn spammer(rng: &mut Gen, serial: u64) -> (String, String, String) {
    let name = pick(
        rng,
        &[
            "Prize Department",
            "Account Security Team",
            "Dr. Williams",
            "Crypto Wallet Support",
            "Shipping Notice",
        ],
    );
    let domain = format!(
        "{}-{:x}.{}",
        pick(rng, &["claims", "secure-verify", "promo", "parcel"]),
        serial % 4096,
        pick(rng, &["top", "xyz", "click", "info"])
    );
    let subject = pick(
        rng,
        &[
            "Congratulations!!! You have been selected",
            "URGENT: verify your account within 24 hours",
            "Unclaimed parcel awaiting delivery",
            "Business proposal of mutual benefit",
        ],
    )
    .to_string();
    (name.to_string(), format!("info@{domain}"), subject)
}
