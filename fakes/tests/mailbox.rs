mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{addresses, decode_words, display_name, parse};
use fakes::mailbox::{GeneratedMessage, GroundTruth, Mailbox, MailboxSpec, MessageKind};

struct Fixture {
    messages: Vec<GeneratedMessage>,
    truth: GroundTruth,
}

/// The 10,000-message mailbox, rendered once and shared by the tests.
fn ten_k() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let mailbox = Mailbox::generate(&MailboxSpec::demo(10_000));
        Fixture {
            messages: mailbox.messages().collect(),
            truth: mailbox.truth(),
        }
    })
}

fn text(m: &GeneratedMessage) -> String {
    String::from_utf8_lossy(&m.raw).into_owned()
}

#[test]
fn same_spec_gives_identical_bytes_and_random_access_matches_iteration() {
    let spec = MailboxSpec::demo(600);
    let a = Mailbox::generate(&spec);
    let b = Mailbox::generate(&spec);
    let from_iter: Vec<GeneratedMessage> = a.messages().collect();
    assert_eq!(from_iter, b.messages().collect::<Vec<_>>());
    for i in (0..a.len()).rev().step_by(7) {
        assert_eq!(a.message(i), from_iter[i]);
    }
    assert_eq!(a.truth(), b.truth());
    let json = serde_json::to_string(&a.truth()).unwrap();
    assert_eq!(
        serde_json::from_str::<GroundTruth>(&json).unwrap(),
        a.truth()
    );

    let other = Mailbox::generate(&MailboxSpec { seed: 7, ..spec });
    assert_ne!(other.message(0).raw, from_iter[0].raw);
}

#[test]
fn moving_the_dates_keeps_the_mail_and_moves_every_date_alike() {
    let spec = MailboxSpec::demo(300);
    let moved = MailboxSpec {
        moved_secs: 500 * 86_400 + 4321,
        ..spec.clone()
    };
    let (before, after) = (Mailbox::generate(&spec), Mailbox::generate(&moved));
    assert_eq!(before.thread_count(), after.thread_count());
    for (b, a) in before.messages().zip(after.messages()) {
        assert_eq!(
            a.internal_date - b.internal_date,
            chrono::Duration::seconds(moved.moved_secs)
        );
        assert_eq!((a.kind, a.from_owner), (b.kind, b.from_owner));
    }
    // The people are the same; only when they wrote moves, by the same amount.
    let shifted: Vec<_> = before
        .truth()
        .people
        .into_iter()
        .map(|mut p| {
            for at in &mut p.exchanged_at {
                *at += chrono::Duration::seconds(moved.moved_secs);
            }
            p
        })
        .collect();
    assert_eq!(shifted, after.truth().people);
}

#[test]
fn small_and_large_specs_have_exact_counts_unique_ids_and_ordered_dates() {
    for messages in [2, 100, 10_000] {
        let spec = MailboxSpec::demo(messages);
        let mailbox = Mailbox::generate(&spec);
        assert_eq!(mailbox.len(), messages);
        let all: Vec<GeneratedMessage> = if messages == 10_000 {
            ten_k().messages.clone()
        } else {
            mailbox.messages().collect()
        };
        assert_eq!(all.len(), messages);
        let ids: BTreeSet<&str> = all.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids.len(), messages, "ids unique");
        let history_start = spec.end - chrono::Duration::days(731);
        for (i, m) in all.iter().enumerate() {
            assert_eq!(m.index, i);
            assert_eq!(m.id.len(), 16);
            assert!(
                m.id.chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
            );
            assert!(m.internal_date <= spec.end && m.internal_date > history_start);
            if i > 0 {
                assert!(all[i - 1].internal_date <= m.internal_date, "chronological");
            }
        }
    }
}

#[test]
fn thread_ids_follow_in_reply_to_chains() {
    let messages = &ten_k().messages;
    let by_message_id: BTreeMap<String, &GeneratedMessage> = messages
        .iter()
        .filter(|m| m.kind != MessageKind::Malformed)
        .map(|m| (parse(&m.raw).header("Message-ID").unwrap().to_string(), m))
        .collect();
    assert_eq!(
        by_message_id.len(),
        messages.len() - messages.len() / 500,
        "Message-IDs unique"
    );
    let mut replies = 0;
    for m in messages {
        let parsed = parse(&m.raw);
        match parsed.header("In-Reply-To") {
            Some(parent) => {
                replies += 1;
                let parent = by_message_id[parent];
                assert_eq!(parent.thread_id, m.thread_id);
                assert!(parent.index < m.index);
                let subject = decode_words(parsed.header("Subject").unwrap());
                assert!(
                    ["Re: ", "RE: ", "Fwd: "]
                        .iter()
                        .any(|p| subject.starts_with(p)),
                    "{subject}"
                );
                let refs = parsed.header("References").unwrap();
                assert!(refs.contains(parsed.header("In-Reply-To").unwrap()));
            }
            None => assert_eq!(m.thread_id, m.id, "thread starters name their thread"),
        }
    }
    assert!(replies > 1_000, "{replies} replies");
}

#[test]
fn wellformed_messages_use_crlf_and_carry_required_headers() {
    for m in &ten_k().messages {
        if m.kind == MessageKind::Malformed {
            continue;
        }
        let raw = &m.raw;
        for (i, &b) in raw.iter().enumerate() {
            if b == b'\n' {
                assert!(
                    i > 0 && raw[i - 1] == b'\r',
                    "bare LF in message {}",
                    m.index
                );
            }
        }
        let parsed = parse(raw);
        for name in [
            "Date",
            "From",
            "To",
            "Subject",
            "Message-ID",
            "MIME-Version",
            "Content-Type",
        ] {
            assert!(
                parsed.header(name).is_some(),
                "{name} missing in {}",
                m.index
            );
        }
        assert!(parsed.headers.iter().all(|(n, _)| n.is_ascii()));
        assert!(std::str::from_utf8(raw).is_ok());
    }
}

fn truth_addresses(truth: &GroundTruth) -> BTreeMap<String, usize> {
    let mut map = BTreeMap::new();
    for (i, p) in truth.people.iter().enumerate() {
        for e in &p.emails {
            assert!(
                map.insert(e.to_ascii_lowercase(), i).is_none(),
                "address {e} shared"
            );
        }
    }
    map
}

#[test]
fn ground_truth_counts_match_the_headers() {
    let Fixture { messages, truth } = ten_k();
    let owner = truth.owner.email.to_ascii_lowercase();
    let index = truth_addresses(truth);
    let mut counted = vec![(0u32, 0u32, 0u32); truth.people.len()];
    for m in messages {
        if !matches!(m.kind, MessageKind::Personal | MessageKind::CalendarInvite) {
            continue;
        }
        let parsed = parse(&m.raw);
        let from = addresses(parsed.header("From").unwrap());
        assert_eq!(m.from_owner, from[0] == owner);
        let mut seen = BTreeSet::new();
        for name in ["From", "To", "Cc", "Bcc"] {
            for address in parsed.header(name).map(addresses).unwrap_or_default() {
                if address == owner {
                    continue;
                }
                let person = index[&address];
                if seen.insert(person) {
                    counted[person].0 += 1;
                    if m.from_owner {
                        counted[person].1 += 1;
                    } else if from[0] == address {
                        counted[person].2 += 1;
                    }
                }
            }
        }
    }
    for (p, c) in truth.people.iter().zip(&counted) {
        assert_eq!(
            (p.message_count, p.sent_by_owner, p.received_by_owner),
            *c,
            "{}",
            p.name
        );
        assert_eq!(p.owner_wrote_to, p.sent_by_owner > 0);
    }
    let never_answered = truth.people.iter().filter(|p| !p.owner_wrote_to).count();
    assert!(never_answered > 0, "some contacts never get a reply");
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

fn national(e164: &str) -> &str {
    e164.strip_prefix("+1").unwrap_or(&e164[3..])
}

#[test]
fn truth_profile_fields_appear_in_the_persons_own_signatures() {
    let Fixture { messages, truth } = ten_k();
    let index = truth_addresses(truth);
    let mut own_text: Vec<String> = vec![String::new(); truth.people.len()];
    for m in messages
        .iter()
        .filter(|m| m.kind == MessageKind::Personal && !m.from_owner)
    {
        let parsed = parse(&m.raw);
        let from = &addresses(parsed.header("From").unwrap())[0];
        let body = parsed.texts();
        // Only the sender's own part, not quoted history.
        let own = body
            .split("\nOn ")
            .next()
            .unwrap()
            .split("-----Original Message-----")
            .next()
            .unwrap()
            .split("________________________________")
            .next()
            .unwrap()
            .to_string();
        own_text[index[from]].push_str(&own);
    }
    let mut checked = 0;
    for (p, text) in truth.people.iter().zip(&own_text) {
        for value in [&p.title, &p.company, &p.twitter].into_iter().flatten() {
            assert!(
                text.contains(value.as_str()),
                "{}: {value} not in own mail",
                p.name
            );
            checked += 1;
        }
        if let Some(url) = &p.linkedin {
            let handle = url.trim_start_matches("https://www.linkedin.com/in/");
            assert!(
                text.contains(&format!("linkedin.com/in/{handle}")),
                "{}",
                p.name
            );
        }
        if let Some(site) = &p.website {
            assert!(
                text.contains(site.trim_start_matches("https://")),
                "{}",
                p.name
            );
        }
        for phone in p.phone_e164.iter().chain(&p.other_phones_e164) {
            assert!(
                text.lines().any(|l| digits(l).contains(national(phone))),
                "{}: {phone}",
                p.name
            );
        }
    }
    assert!(checked > 100);
    let with_phone = truth
        .people
        .iter()
        .filter(|p| p.phone_e164.is_some())
        .count();
    assert!(with_phone > 20);
}

#[test]
fn bulk_senders_are_marked_and_never_people() {
    let Fixture { messages, truth } = ten_k();
    let people = truth_addresses(truth);
    let bulk: BTreeSet<&str> = truth.bulk_senders.iter().map(String::as_str).collect();
    for m in messages {
        let parsed = parse(&m.raw);
        match m.kind {
            MessageKind::Bulk => {
                let from = &addresses(parsed.header("From").unwrap())[0];
                assert!(bulk.contains(from.as_str()));
                assert!(
                    parsed.header("List-Id").is_some()
                        && parsed.header("List-Unsubscribe").is_some()
                );
                assert!(matches!(parsed.header("Precedence"), Some("bulk" | "list")));
            }
            MessageKind::Notification => {
                let from = &addresses(parsed.header("From").unwrap())[0];
                assert!(bulk.contains(from.as_str()));
                assert_eq!(parsed.header("Auto-Submitted"), Some("auto-generated"));
                let local = from.split('@').next().unwrap();
                assert!(
                    [
                        "noreply",
                        "no-reply",
                        "notifications",
                        "do-not-reply",
                        "alerts",
                        "notify"
                    ]
                    .contains(&local)
                );
            }
            MessageKind::Spam => assert_eq!(m.label_ids, ["SPAM", "UNREAD"]),
            _ => {}
        }
    }
    assert!(bulk.iter().all(|b| !people.contains_key(*b)));
    assert!(truth.bulk_senders.len() >= 10);
}

#[test]
fn non_ascii_display_names_round_trip_through_rfc2047() {
    let Fixture { messages, truth } = ten_k();
    let index = truth_addresses(truth);
    let (mut b_words, mut q_words, mut last_first, mut bare) = (0, 0, 0, 0);
    for m in messages.iter().filter(|m| m.kind == MessageKind::Personal) {
        let parsed = parse(&m.raw);
        let from = parsed.header("From").unwrap();
        let address = &addresses(from)[0];
        let Some(&person) = index.get(address) else {
            continue;
        };
        let name = &truth.people[person].name;
        match display_name(from) {
            None => bare += 1,
            Some(decoded) => {
                let (first, last) = name.split_once(' ').unwrap();
                if decoded == format!("{last}, {first}") {
                    last_first += 1;
                } else {
                    assert_eq!(&decoded, name, "{from}");
                }
                b_words += usize::from(from.contains("?B?"));
                q_words += usize::from(from.contains("?Q?"));
            }
        }
        let subject = parsed.header("Subject").unwrap();
        assert!(!decode_words(subject).contains("=?"));
    }
    assert!(b_words > 0 && q_words > 0 && last_first > 0 && bare > 0);
    assert_eq!(decode_words("=?UTF-8?Q?Zo=C3=AB_O'Brien?="), "Zoë O'Brien");
}

#[test]
fn realism_features_all_occur() {
    let Fixture { messages, truth } = ten_k();
    let all: Vec<String> = messages.iter().map(text).collect();
    let has = |needle: &str| all.iter().any(|m| m.contains(needle));
    for needle in [
        "Content-Type: text/calendar; charset=\"UTF-8\"; method=REQUEST",
        "METHOD:REQUEST",
        "BEGIN:VEVENT",
        "ORGANIZER;CN=",
        "ATTENDEE;",
        "filename=\"invite.ics\"",
        "filename*=UTF-8''",
        "=?UTF-8?B?",
        "=?UTF-8?Q?",
        "Content-Transfer-Encoding: quoted-printable",
        "Content-Transfer-Encoding: base64",
        "Content-Transfer-Encoding: 8bit",
        "multipart/alternative",
        "multipart/mixed",
        "-----Original Message-----",
        "---------- Forwarded message ---------",
        "Sent from my iPhone",
        "CONFIDENTIALITY NOTICE",
        "\r\nBcc: ",
        "\r\nCc: ",
        " via ",
        "List-Unsubscribe-Post",
        "Precedence: list",
        "image/png",
        "text/csv",
    ] {
        let found = has(needle)
            || messages
                .iter()
                .any(|m| parse(&m.raw).texts().contains(needle));
        assert!(found, "missing {needle}");
    }
    let html_only = messages.iter().filter(|m| {
        parse(&m.raw)
            .header("Content-Type")
            .is_some_and(|c| c.starts_with("text/html"))
    });
    assert!(html_only.count() > 10);
    let kinds: BTreeSet<String> = messages.iter().map(|m| format!("{:?}", m.kind)).collect();
    assert_eq!(kinds.len(), 6, "{kinds:?}");
    for label in [
        "INBOX",
        "SENT",
        "UNREAD",
        "IMPORTANT",
        "CATEGORY_PROMOTIONS",
        "CATEGORY_UPDATES",
        "SPAM",
        "TRASH",
    ] {
        assert!(
            messages
                .iter()
                .any(|m| m.label_ids.iter().any(|l| l == label)),
            "{label}"
        );
    }
    let domains: BTreeSet<&str> = truth.companies.iter().map(|c| c.domain.as_str()).collect();
    assert!(
        domains.iter().any(|d| d.ends_with(".co.uk"))
            && domains.iter().any(|d| d.ends_with(".com.au"))
    );
    assert!(truth.companies.iter().any(|c| c.mail_domain != c.domain));
    assert!(truth.people.iter().any(|p| p.emails.len() == 2));
    assert!(
        truth
            .people
            .iter()
            .any(|p| p.emails[0].ends_with("@gmail.com"))
    );
}

#[test]
fn owner_share_injection_and_malformed_are_as_specified() {
    let Fixture { messages, truth } = ten_k();
    let personal: Vec<&GeneratedMessage> = messages
        .iter()
        .filter(|m| m.kind == MessageKind::Personal)
        .collect();
    let sent = personal.iter().filter(|m| m.from_owner).count();
    let share = sent * 100 / personal.len();
    assert!((30..=40).contains(&share), "owner share {share}%");
    assert!(
        personal
            .iter()
            .filter(|m| m.from_owner)
            .all(|m| m.label_ids.contains(&"SENT".to_string()))
    );

    assert_eq!(truth.prompt_injection_message_ids.len(), 1);
    let injected: Vec<&GeneratedMessage> = messages
        .iter()
        .filter(|m| {
            parse(&m.raw)
                .texts()
                .contains("Ignore previous instructions")
        })
        .collect();
    // A single-message thread, so no reply quotes it.
    assert_eq!(injected.len(), 1);
    assert_eq!(injected[0].id, truth.prompt_injection_message_ids[0]);
    assert!(!injected[0].from_owner);

    let malformed: Vec<String> = messages
        .iter()
        .filter(|m| m.kind == MessageKind::Malformed)
        .map(|m| m.id.clone())
        .collect();
    assert_eq!(malformed.len(), 20);
    let mut expected = truth.malformed_message_ids.clone();
    expected.sort();
    let mut got = malformed.clone();
    got.sort();
    assert_eq!(got, expected);
}

#[test]
fn planning_a_million_messages_is_fast() {
    let started = Instant::now();
    let mailbox = Mailbox::generate(&MailboxSpec::demo(1_000_000));
    let planned = started.elapsed();
    assert_eq!(mailbox.len(), 1_000_000);
    // Debug builds are ~10x slower than release; the bound is generous.
    assert!(
        planned < Duration::from_secs(60),
        "planning took {planned:?}"
    );
    let started = Instant::now();
    for i in (0..mailbox.len()).step_by(10_007) {
        assert_eq!(mailbox.message(i).index, i);
    }
    assert!(started.elapsed() < Duration::from_secs(10));
    let last = mailbox.message(999_999);
    assert!(last.internal_date <= mailbox.spec().end);
}
