//! Each provider's payload shape, from fixtures written after the providers' docs, parsed
//! into the activity Rapport stores; and malformed payloads refused with the field named.

use chrono::{DateTime, TimeZone, Utc};
use domain::channels::providers::{ParsedWebhook, parse_webhook};
use domain::channels::{
    Channel, ChannelDefaults, ChannelError, ChannelProvider, Direction, ParticipantRole,
};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/webhooks/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture exists")
}

fn received() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 8, 0, 0).unwrap()
}

fn defaults() -> ChannelDefaults {
    ChannelDefaults {
        channel: Channel::Sms,
        direction: Direction::Inbound,
    }
}

fn parse(provider: ChannelProvider, body: &[u8]) -> Result<ParsedWebhook, ChannelError> {
    parse_webhook(provider, defaults(), body, received())
}

/// `(role, kind, address, name)` of every participant.
fn people(parsed: &ParsedWebhook) -> Vec<(&'static str, &'static str, String, Option<String>)> {
    parsed
        .activity
        .participants
        .iter()
        .map(|p| {
            (
                p.role.as_str(),
                p.address.kind().as_str(),
                p.address.value().to_owned(),
                p.display_name.clone(),
            )
        })
        .collect()
}

fn invalid_field(result: Result<ParsedWebhook, ChannelError>) -> String {
    match result {
        Err(ChannelError::InvalidPayload { field, .. }) => field,
        other => panic!("expected an invalid payload, got {other:?}"),
    }
}

#[test]
fn generic_json_sms() {
    let parsed = parse(ChannelProvider::Generic, &fixture("generic_sms.json")).unwrap();
    let a = &parsed.activity;
    assert_eq!(a.external_id, "crm-sms-1001");
    assert_eq!((a.channel, a.direction), (Channel::Sms, Direction::Inbound));
    assert_eq!(
        a.occurred_at,
        Utc.with_ymd_and_hms(2026, 11, 20, 9, 30, 0).unwrap()
    );
    assert_eq!(a.thread_key.as_deref(), Some("dana-sms"));
    assert_eq!(
        people(&parsed),
        vec![
            (
                "from",
                "phone",
                "+14155552671".into(),
                Some("Dana Whitfield".into())
            ),
            ("to", "phone", "+14155550100".into(), None),
        ]
    );
    assert_eq!(
        parsed.raw["external_id"], "crm-sms-1001",
        "raw payload kept"
    );
}

#[test]
fn generic_json_email_with_attachments_by_url_and_inline() {
    let parsed = parse(ChannelProvider::Generic, &fixture("generic_email.json")).unwrap();
    let a = &parsed.activity;
    assert_eq!(
        (a.channel, a.direction),
        (Channel::Email, Direction::Outbound)
    );
    assert_eq!(
        a.occurred_at,
        Utc.with_ymd_and_hms(2026, 11, 19, 15, 5, 12).unwrap()
    );
    assert_eq!(a.subject.as_deref(), Some("Quote for the Q1 rollout"));
    assert!(a.html.as_deref().unwrap().contains("<p>"));
    let roles: Vec<_> = people(&parsed).into_iter().map(|p| (p.0, p.2)).collect();
    assert_eq!(
        roles,
        vec![
            ("from", "owner@example.com".into()),
            ("to", "lee.chen@northwind.example".into()),
            ("cc", "ops@northwind.example".into()),
        ]
    );
    assert_eq!(
        a.attachments[0]["url"],
        "https://files.example.com/quote.pdf"
    );
    assert_eq!(a.attachments[1]["size"], 11, "decoded inline content");
    assert_eq!(a.attachments[1]["inline"], true);
}

#[test]
fn generic_json_falls_back_to_channel_defaults() {
    let body = br#"{"external_id": 42, "from": {"phone": "+14155552671"}, "text": "hi"}"#;
    let a = parse(ChannelProvider::Generic, body).unwrap().activity;
    assert_eq!(a.external_id, "42");
    assert_eq!((a.channel, a.direction), (Channel::Sms, Direction::Inbound));
    assert_eq!(a.occurred_at, received());
}

#[test]
fn generic_json_errors_name_the_field() {
    let cases: [(&[u8], &str); 10] = [
        (b"not json", "body"),
        (b"[]", "body"),
        (br#"{"from": {"phone": "+14155552671"}}"#, "external_id"),
        (br#"{"external_id": "1"}"#, "from"),
        (br#"{"external_id": "1", "from": {"email": "nope"}}"#, "from.email"),
        (br#"{"external_id": "1", "from": {"name": "X"}}"#, "from.email"),
        (br#"{"external_id": "1", "from": {"phone": "+14155552671"}, "channel": "fax"}"#, "channel"),
        (br#"{"external_id": "1", "from": {"phone": "+14155552671"}, "occurred_at": "yesterday"}"#, "occurred_at"),
        (br#"{"external_id": "1", "from": {"phone": "+14155552671"}, "to": [{"phone": "12"}]}"#, "to[0].phone"),
        (br#"{"external_id": "1", "from": {"phone": "+14155552671"}, "attachments": [{"url": "ftp://x"}]}"#, "attachments[0].url"),
    ];
    for (body, field) in cases {
        assert_eq!(
            invalid_field(parse(ChannelProvider::Generic, body)),
            field,
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn twilio_sms() {
    let parsed = parse(ChannelProvider::Twilio, &fixture("twilio_sms.form")).unwrap();
    let a = &parsed.activity;
    assert_eq!(a.external_id, "SM5f3c0a8e2b9d4c1aa0f1e2d3c4b5a697");
    assert_eq!((a.channel, a.direction), (Channel::Sms, Direction::Inbound));
    assert_eq!(a.text.as_deref(), Some("Are we still on for Thursday?"));
    assert_eq!(
        a.occurred_at,
        received(),
        "Twilio sends no time: arrival time"
    );
    assert_eq!(
        people(&parsed),
        vec![
            ("from", "phone", "+14155552671".into(), None),
            ("to", "phone", "+14155550100".into(), None),
        ]
    );
    assert!(a.attachments.is_empty());
    assert_eq!(parsed.raw["SmsStatus"], "received", "the form kept as JSON");
}

#[test]
fn twilio_whatsapp_with_media() {
    let parsed = parse(
        ChannelProvider::Twilio,
        &fixture("twilio_whatsapp_mms.form"),
    )
    .unwrap();
    let a = &parsed.activity;
    assert_eq!(a.channel, Channel::Whatsapp);
    assert_eq!(
        people(&parsed)[0],
        (
            "from",
            "phone",
            "+447700900123".into(),
            Some("Priya".into())
        )
    );
    assert_eq!(a.attachments.len(), 2);
    assert_eq!(a.attachments[1]["content_type"], "image/png");
    assert!(
        a.attachments[0]["url"]
            .as_str()
            .unwrap()
            .ends_with("/Media/ME1")
    );
}

#[test]
fn twilio_voice_status_callback() {
    let parsed = parse(
        ChannelProvider::Twilio,
        &fixture("twilio_call_completed.form"),
    )
    .unwrap();
    let a = &parsed.activity;
    assert_eq!(a.external_id, "CA1b2c3d4e5f60718293a4b5c6d7e8f901");
    assert_eq!(
        (a.channel, a.direction),
        (Channel::Call, Direction::Outbound)
    );
    assert_eq!(
        a.occurred_at,
        Utc.with_ymd_and_hms(2026, 11, 20, 17, 42, 7).unwrap()
    );
    assert_eq!(a.headers["call_status"], "completed");
    assert_eq!(a.headers["call_duration_secs"], 187);
    assert_eq!(a.text.as_deref(), Some("Call completed, 187 s"));
    assert_eq!(people(&parsed)[1].2, "+14155552671");
}

#[test]
fn twilio_errors_name_the_parameter() {
    let cases: [(&[u8], &str); 5] = [
        (b"From=%2B14155552671&Body=hi", "MessageSid"),
        (b"MessageSid=SM1&To=%2B14155550100", "From"),
        (b"MessageSid=SM1&From=%2B14155552671&To=%2B14155550100&NumMedia=1", "MediaUrl0"),
        (b"CallSid=CA1&From=%2B14155552671&To=%2B14155550100&CallStatus=completed&CallDuration=long", "CallDuration"),
        (b"MessageSid=SM1&From=banana&To=%2B14155550100", "From"),
    ];
    for (body, field) in cases {
        assert_eq!(invalid_field(parse(ChannelProvider::Twilio, body)), field);
    }
}

#[test]
fn postmark_inbound_email() {
    let parsed = parse(ChannelProvider::Postmark, &fixture("postmark_inbound.json")).unwrap();
    let a = &parsed.activity;
    assert_eq!(a.external_id, "73e6d360-66eb-11e1-8e72-a8904824019b");
    assert_eq!(
        (a.channel, a.direction),
        (Channel::Email, Direction::Inbound)
    );
    assert_eq!(
        a.occurred_at,
        Utc.with_ymd_and_hms(2026, 11, 20, 13, 3, 51).unwrap()
    );
    assert_eq!(a.subject.as_deref(), Some("Re: Brand refresh timeline"));
    assert!(a.text.as_deref().unwrap().starts_with("Works for us."));
    assert_eq!(
        a.headers["message_id"],
        "CAE7x9Qp@mail.kowalska-design.example"
    );
    assert_eq!(
        a.headers["stripped_text_reply"],
        "Works for us. Let's aim for the 3rd."
    );
    assert_eq!(
        people(&parsed),
        vec![
            (
                "from",
                "email",
                "marta@kowalska-design.example".into(),
                Some("Marta Kowalska".into())
            ),
            (
                "to",
                "email",
                "inbox+crm@inbound.example.com".into(),
                Some("Rapport Inbox".into())
            ),
            (
                "cc",
                "email",
                "tom@kowalska-design.example".into(),
                Some("Tom".into())
            ),
        ]
    );
    assert_eq!(a.attachments[0]["filename"], "timeline.pdf");
    assert_eq!(a.attachments[0]["size"], 9);
}

#[test]
fn postmark_errors_name_the_field() {
    let no_id = br#"{"FromFull": {"Email": "a@example.com"}}"#;
    assert_eq!(
        invalid_field(parse(ChannelProvider::Postmark, no_id)),
        "MessageID"
    );
    let bad_to = br#"{"MessageID": "m1", "FromFull": {"Email": "a@example.com"}, "ToFull": [{"Email": "x"}]}"#;
    assert_eq!(
        invalid_field(parse(ChannelProvider::Postmark, bad_to)),
        "ToFull[0].Email"
    );
    let no_from = br#"{"MessageID": "m1"}"#;
    assert_eq!(
        invalid_field(parse(ChannelProvider::Postmark, no_from)),
        "FromFull"
    );
}

#[test]
fn timelinesai_received_message() {
    let parsed = parse(
        ChannelProvider::TimelinesAi,
        &fixture("timelinesai_received.json"),
    )
    .unwrap();
    let a = &parsed.activity;
    assert_eq!(a.external_id, "5b1f0e2a-7c44-4d1e-9a3b-2f6e8d9c0a11");
    assert_eq!(
        (a.channel, a.direction),
        (Channel::Whatsapp, Direction::Inbound)
    );
    assert_eq!(
        a.occurred_at,
        Utc.with_ymd_and_hms(2026, 11, 18, 8, 35, 18).unwrap()
    );
    assert_eq!(a.thread_key.as_deref(), Some("timelinesai:884120"));
    assert_eq!(
        people(&parsed),
        vec![
            (
                "from",
                "phone",
                "+46701234567".into(),
                Some("Jonas Berg".into())
            ),
            ("to", "phone", "+14155550100".into(), Some("Owner".into())),
        ]
    );
    assert_eq!(a.attachments[0]["content_type"], "application/pdf");
}

#[test]
fn timelinesai_sent_message_without_sender_uses_the_account_and_chat() {
    let parsed = parse(
        ChannelProvider::TimelinesAi,
        &fixture("timelinesai_sent.json"),
    )
    .unwrap();
    assert_eq!(parsed.activity.direction, Direction::Outbound);
    let from_to: Vec<_> = people(&parsed).into_iter().map(|p| (p.0, p.2)).collect();
    assert_eq!(
        from_to,
        vec![
            ("from", "+14155550100".into()),
            ("to", "+46701234567".into())
        ]
    );
}

#[test]
fn timelinesai_message_new_reads_the_direction_field() {
    let parsed = parse(
        ChannelProvider::TimelinesAi,
        &fixture("timelinesai_message_new.json"),
    )
    .unwrap();
    assert_eq!(parsed.activity.direction, Direction::Outbound);
    assert_eq!(
        people(&parsed)[1].2,
        "+123456789",
        "a number without + is international"
    );
}

#[test]
fn timelinesai_errors_name_the_field() {
    let other_event = br#"{"event_type": "chat:new", "message": {"message_uid": "u"}}"#;
    assert_eq!(
        invalid_field(parse(ChannelProvider::TimelinesAi, other_event)),
        "event_type"
    );
    let no_uid = br#"{"event_type": "message:received:new", "message": {"sender": {"phone": "+46701234567"}}}"#;
    assert_eq!(
        invalid_field(parse(ChannelProvider::TimelinesAi, no_uid)),
        "message.message_uid"
    );
    let bad_time = br#"{"event_type": "message:received:new", "message": {"message_uid": "u", "timestamp": "soon", "sender": {"phone": "+46701234567"}}}"#;
    assert_eq!(
        invalid_field(parse(ChannelProvider::TimelinesAi, bad_time)),
        "message.timestamp"
    );
    let no_sender = br#"{"event_type": "message:received:new", "message": {"message_uid": "u"}}"#;
    assert_eq!(
        invalid_field(parse(ChannelProvider::TimelinesAi, no_sender)),
        "message.sender"
    );
}

#[test]
fn nul_characters_never_reach_postgres() {
    let body =
        br#"{"external_id": "n\u0000ul", "from": {"phone": "+14155552671"}, "text": "a\u0000b"}"#;
    let parsed = parse(ChannelProvider::Generic, body).unwrap();
    assert_eq!(parsed.activity.external_id, "nul");
    assert_eq!(parsed.activity.text.as_deref(), Some("ab"));
    assert!(!parsed.raw.to_string().contains("\\u0000"));
}

#[test]
fn roles_are_the_stored_names() {
    assert_eq!(
        [
            ParticipantRole::From,
            ParticipantRole::To,
            ParticipantRole::Cc,
            ParticipantRole::Bcc
        ]
        .map(ParticipantRole::as_str),
        ["from", "to", "cc", "bcc"]
    );
}

/// Demo mode stores these through the same parsers: they must stay valid payloads, with
/// the people's phones as participants and both directions.
#[test]
fn demo_chats_are_valid_timelinesai_and_twilio_payloads() {
    use fakes::mailbox::{Mailbox, MailboxSpec};
    let truth = Mailbox::generate(&MailboxSpec::demo(600)).truth();
    let chats = fakes::webhooks::demo_webhooks(&truth.owner.name, &truth.people, received());
    assert!(!chats.whatsapp.is_empty() && !chats.sms.is_empty());
    let phones: Vec<&str> = truth
        .people
        .iter()
        .filter_map(|p| p.phone_e164.as_deref())
        .collect();
    for (provider, channel, bodies) in [
        (
            ChannelProvider::TimelinesAi,
            Channel::Whatsapp,
            &chats.whatsapp,
        ),
        (ChannelProvider::Twilio, Channel::Sms, &chats.sms),
    ] {
        let defaults = ChannelDefaults {
            channel,
            direction: Direction::Inbound,
        };
        let mut directions = Vec::new();
        for (at, body) in bodies {
            let parsed = parse_webhook(provider, defaults, body.as_bytes(), *at)
                .unwrap_or_else(|e| panic!("{provider:?} demo payload refused: {e}\n{body}"));
            let activity = parsed.activity;
            assert_eq!(activity.channel, channel);
            assert_eq!(activity.occurred_at, *at);
            assert!(activity.text.as_deref().is_some_and(|t| !t.is_empty()));
            assert!(
                activity
                    .participants
                    .iter()
                    .any(|p| phones.contains(&p.address.value())),
                "a demo person's phone takes part: {:?}",
                activity.participants
            );
            directions.push(activity.direction);
        }
        assert!(directions.contains(&Direction::Inbound));
        assert!(directions.contains(&Direction::Outbound));
    }
}
