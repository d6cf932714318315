//! Fuzzing the parsers that read what strangers send: MIME messages, mbox streams, each
//! webhook provider's payload, uploaded file names and the signature extractor that
//! reads message bodies. Inputs are mutations of real-shaped seeds (the synthetic
//! mailbox, the provider fixtures) plus raw bytes; each target checks that the parser
//! does not panic and that what it returns keeps its promises.
//!
//! `cargo test` runs every target for a few hundred fixed-seed cases. `make fuzz` runs
//! each for `FUZZ_SECONDS` (random seeds, printed) and reports the executions. A failing
//! input is shrunk by proptest and printed with its seed (`FUZZ_SEED` replays it); commit
//! it as a regression test.

use std::io::BufReader;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use domain::channels::providers::parse_webhook;
use domain::channels::{Channel, ChannelDefaults, ChannelProvider, Direction};
use domain::extract::signature::{SenderHint, extract_signature};
use domain::files::{FileName, MAX_FILE_NAME_BYTES};
use domain::mail::mbox::{MboxItem, MboxLimits, MboxReader, SKIPPED_HEAD_BYTES};
use domain::mail::parse_email;
use fakes::mailbox::{Mailbox, MailboxSpec};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};

// ---------------------------------------------------------------------------------------
// The driver

/// Cases per runner round; a timed run repeats rounds until its budget is spent.
const ROUND: u32 = 256;

/// Runs `check` on values of `strategy`: one fixed-seed round under `cargo test`, rounds
/// with fresh seeds for `FUZZ_SECONDS` under `make fuzz`. Panics (with the shrunk input)
/// on the first failure; a panic inside the parser is a failure.
fn fuzz<S>(target: &str, strategy: S, check: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S: Strategy,
{
    let budget = std::env::var("FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .map(Duration::from_secs);
    // `FUZZ_SEED` replays the round a failure named.
    let fixed_seed = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse::<u64>().ok());
    let started = Instant::now();
    let mut executions: u64 = 0;
    let mut round: u64 = 0;
    loop {
        let seed = match (fixed_seed, budget) {
            (Some(seed), _) => seed.wrapping_add(round),
            (None, None) => round,
            (None, Some(_)) => rand_seed(round),
        };
        let config = Config {
            cases: ROUND,
            failure_persistence: None,
            ..Config::default()
        };
        let mut runner = TestRunner::new_with_rng(
            config,
            TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes(seed)),
        );
        match runner.run(&strategy, &check) {
            Ok(()) => {}
            Err(TestError::Fail(reason, input)) => {
                panic!("fuzz {target}: seed {seed}: {reason}\nminimal input: {input:?}")
            }
            Err(TestError::Abort(reason)) => panic!("fuzz {target}: seed {seed}: {reason}"),
        }
        executions += u64::from(ROUND);
        round += 1;
        match budget {
            Some(budget) if started.elapsed() < budget => continue,
            _ => break,
        }
    }
    println!(
        "fuzz {target}: {executions} executions in {:.1}s, no failures",
        started.elapsed().as_secs_f64()
    );
}

fn rand_seed(round: u64) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default();
    nanos ^ round.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

fn seed_bytes(seed: u64) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(&(seed.wrapping_add(i as u64)).to_le_bytes());
    }
    bytes
}

// ---------------------------------------------------------------------------------------
// Byte mutations of seeds

/// One edit of a seed; positions are taken modulo the current length.
#[derive(Debug, Clone)]
enum Edit {
    Flip { at: usize, byte: u8 },
    Insert { at: usize, token: usize },
    Delete { at: usize, len: usize },
    Repeat { at: usize, len: usize, times: usize },
    Truncate { at: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Edit::Flip { at, byte }),
        4 => (any::<usize>(), any::<usize>()).prop_map(|(at, token)| Edit::Insert { at, token }),
        2 => (any::<usize>(), 1..64usize).prop_map(|(at, len)| Edit::Delete { at, len }),
        1 => (any::<usize>(), 1..64usize, 2..200usize)
            .prop_map(|(at, len, times)| Edit::Repeat { at, len, times }),
        1 => any::<usize>().prop_map(|at| Edit::Truncate { at }),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit], tokens: &[&[u8]]) -> Vec<u8> {
    for edit in edits {
        let len = bytes.len();
        let at = |i: usize| if len == 0 { 0 } else { i % (len + 1) };
        match *edit {
            Edit::Flip { at: i, byte } if len > 0 => bytes[i % len] = byte,
            Edit::Flip { .. } => bytes.push(0),
            Edit::Insert { at: i, token } => {
                let token = tokens[token % tokens.len()];
                let i = at(i);
                bytes.splice(i..i, token.iter().copied());
            }
            Edit::Delete { at: i, len: n } => {
                let i = at(i);
                bytes.drain(i..(i + n).min(len));
            }
            Edit::Repeat {
                at: i,
                len: n,
                times,
            } => {
                let i = at(i);
                let piece = bytes[i..(i + n).min(len)].to_vec();
                let repeated = piece.repeat(times);
                bytes.splice(i..i, repeated);
            }
            Edit::Truncate { at: i } => bytes.truncate(at(i)),
        }
    }
    bytes
}

/// Seeds with a few edits each, or arbitrary bytes.
fn mutated(
    seeds: &'static [Vec<u8>],
    tokens: &'static [&'static [u8]],
) -> impl Strategy<Value = Vec<u8>> {
    let edited = (0..seeds.len(), proptest::collection::vec(edit(), 0..8))
        .prop_map(move |(seed, edits)| apply(seeds[seed].clone(), &edits, tokens));
    prop_oneof![
        9 => edited,
        1 => proptest::collection::vec(any::<u8>(), 0..2048),
    ]
}

// ---------------------------------------------------------------------------------------
// MIME messages

static MESSAGES: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    let mailbox = Mailbox::generate(&MailboxSpec::demo(300));
    let mut seeds: Vec<Vec<u8>> = mailbox.messages().map(|m| m.raw.clone()).collect();
    seeds.push(nested_multipart(300));
    seeds.push(
        format!(
            "Subject: x\r\nContent-Type: text/html\r\n\r\n{}",
            "<div>".repeat(5_000)
        )
        .into_bytes(),
    );
    seeds
});

const MIME_TOKENS: &[&[u8]] = &[
    b"\r\n",
    b"\r\n\r\n",
    b"\n",
    b"Content-Type: multipart/mixed; boundary=\"b\"\r\n",
    b"Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\n",
    b"--b\r\n",
    b"--b--\r\n",
    b"Content-Type: message/rfc822\r\n\r\n",
    b"Content-Type: text/html; charset=utf-16\r\n",
    b"Content-Type: text/plain; charset=\"iso-2022-jp\"\r\n",
    b"Content-Type: text/calendar; method=REQUEST\r\n",
    b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:20261301T250000Z\r\n",
    b"Content-Transfer-Encoding: base64\r\n",
    b"Content-Transfer-Encoding: quoted-printable\r\n",
    b"=\r\n",
    b"=E9=",
    b"=?UTF-8?B?",
    b"=?iso-8859-1?Q?=E9t=E9?=",
    b"?=",
    b"Content-Disposition: attachment; filename*=UTF-8''%E2%82%AC%2F..%2F.pdf\r\n",
    b"From: \"Ada \\\" Lovelace\" <ada@example.com>, <>\r\n",
    b"To: undisclosed-recipients:;\r\n",
    b"Date: Mon, 31 Feb 99999 25:61:61 +9999\r\n",
    b"<script>alert(1)</script>",
    b"<a href=\"javascript:alert(1)\">x</a>",
    b"<img src=x onerror=alert(1)>",
    b"\xff\xfe\x00",
    b"\xe2\x80\xae",
    b"\0",
];

#[test]
fn fuzz_mime_messages() {
    let received = Utc.with_ymd_and_hms(2026, 11, 21, 8, 0, 0).unwrap();
    fuzz("mime", mutated(&MESSAGES, MIME_TOKENS), |raw| {
        let parsed = parse_email(&raw, received);
        prop_assert_eq!(parsed.size, raw.len());
        if let Some(html) = &parsed.html {
            prop_assert_eq!(dangerous_markup(html), None, "{}", html);
        }
        prop_assert!(parsed.snippet.chars().count() <= 400, "{}", parsed.snippet);
        Ok(())
    });
}

/// A tag of sanitized HTML that could run script: a script-like element, an event
/// handler attribute or a `javascript:` URL. Sanitized output escapes `<` in text and
/// double-quotes every attribute value (escaping `"` inside), so every `<` opens a tag
/// and the pieces between quotes alternate between names and values.
fn dangerous_markup(html: &str) -> Option<String> {
    html.split('<').skip(1).find_map(|rest| {
        let tag = rest
            .split('>')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let pieces: Vec<&str> = tag.split('"').collect();
        let name = pieces[0].trim_start_matches('/').split_whitespace().next();
        let unsafe_element = matches!(
            name,
            Some("script" | "iframe" | "object" | "embed" | "style" | "base" | "meta")
        );
        // (attribute name, value) pairs: `name=` ends an outside piece, the value follows.
        let attributes = pieces.chunks(2).filter_map(|pair| {
            let attribute = pair[0].trim_end().strip_suffix('=')?;
            let attribute = attribute.split_whitespace().last()?;
            Some((attribute, pair.get(1).copied().unwrap_or_default()))
        });
        let unsafe_attribute = attributes.into_iter().any(|(attribute, value)| {
            attribute.starts_with("on")
                || (matches!(attribute, "href" | "src" | "action" | "formaction")
                    && value.trim_start().starts_with("javascript:"))
        });
        (unsafe_element || unsafe_attribute).then(|| format!("<{tag}>"))
    })
}

/// `depth` multiparts, each the only part of the one around it.
fn nested_multipart(depth: usize) -> Vec<u8> {
    let mut message = String::from("From: a@example.com\r\nSubject: deep\r\n");
    for level in 0..depth {
        message.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"b{level}\"\r\n\r\n--b{level}\r\n"
        ));
    }
    message.push_str("Content-Type: text/plain\r\n\r\nbottom\r\n");
    for level in (0..depth).rev() {
        message.push_str(&format!("--b{level}--\r\n"));
    }
    message.into_bytes()
}

// ---------------------------------------------------------------------------------------
// mbox streams

const MBOX_TOKENS: &[&[u8]] = &[
    b"\n",
    b"\r\n",
    b"\n\n",
    b"From ",
    b"\nFrom a@b Mon Jan  1 00:00:00 2024\n",
    b">From ",
    b">>From ",
    b"\nFrom \n",
    b"\r",
    b"\0",
];

static MBOXES: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    let mailbox = Mailbox::generate(&MailboxSpec::demo(60));
    let messages: Vec<Vec<u8>> = mailbox.messages().map(|m| m.raw.clone()).collect();
    messages
        .chunks(6)
        .map(|chunk| {
            let lines: Vec<Vec<Vec<u8>>> = chunk
                .iter()
                .map(|raw| raw.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect())
                .collect();
            write_mbox(&lines)
        })
        .collect()
});

/// mboxrd: `From ` and quoted `>From ` lines gain one `>`; a blank line ends a message.
fn write_mbox(messages: &[Vec<Vec<u8>>]) -> Vec<u8> {
    let mut out = Vec::new();
    for lines in messages {
        out.extend_from_slice(b"From sender@example.com Mon Jan  1 00:00:00 2024\n");
        for line in lines {
            let quotes = line.iter().take_while(|&&b| b == b'>').count();
            if line[quotes..].starts_with(b"From ") {
                out.push(b'>');
            }
            out.extend_from_slice(line);
            out.push(b'\n');
        }
        out.push(b'\n');
    }
    out
}

fn small_limits() -> impl Strategy<Value = MboxLimits> {
    prop_oneof![
        Just(MboxLimits::default()),
        (1u64..4096, 1u64..512).prop_map(|(max_message_bytes, max_line_bytes)| MboxLimits {
            max_message_bytes,
            max_line_bytes,
        }),
    ]
}

#[test]
fn fuzz_mbox_streams() {
    let strategy = (mutated(&MBOXES, MBOX_TOKENS), small_limits(), 1usize..256);
    fuzz("mbox", strategy, |(input, limits, buffer)| {
        let reader = MboxReader::with_limits(BufReader::with_capacity(buffer, &input[..]), limits);
        for item in reader {
            match item.map_err(|e| TestCaseError::fail(e.to_string()))? {
                MboxItem::Message(message) => {
                    prop_assert!(message.raw.len() as u64 <= limits.max_message_bytes);
                    for line in message.raw.split(|&b| b == b'\n') {
                        prop_assert!(line.len() as u64 <= limits.max_line_bytes + 1);
                    }
                }
                MboxItem::Skipped { head, .. } => prop_assert!(head.len() <= SKIPPED_HEAD_BYTES),
            }
        }
        Ok(())
    });
}

/// A line of an mbox message body: no line ending, often `From `-like.
fn mbox_line() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"From ".to_vec()),
        Just(b">".to_vec()),
        Just(Vec::new()),
        proptest::collection::vec(
            any::<u8>().prop_filter("no line end", |b| *b != b'\n' && *b != b'\r'),
            0..12
        ),
    ];
    proptest::collection::vec(piece, 0..4).prop_map(|pieces| pieces.concat())
}

/// Written as mboxrd and read back, messages come out as they went in (CRLF endings).
#[test]
fn fuzz_mbox_round_trip() {
    let messages = proptest::collection::vec(proptest::collection::vec(mbox_line(), 0..12), 0..6);
    fuzz("mbox-round-trip", messages, |messages| {
        let input = write_mbox(&messages);
        let read: Vec<Vec<u8>> = MboxReader::new(&input[..])
            .map(|item| match item {
                Ok(MboxItem::Message(m)) => Ok(m.raw),
                other => Err(TestCaseError::fail(format!("{other:?}"))),
            })
            .collect::<Result<_, _>>()?;
        let expected: Vec<Vec<u8>> = messages
            .iter()
            .map(|lines| {
                lines
                    .iter()
                    .flat_map(|l| [&l[..], b"\r\n"].concat())
                    .collect()
            })
            .collect();
        prop_assert_eq!(read, expected);
        Ok(())
    });
}

// ---------------------------------------------------------------------------------------
// Webhook payloads, one target per provider

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/webhooks/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture exists")
}

fn fixtures(names: &[&str]) -> &'static [Vec<u8>] {
    names.iter().map(|n| fixture(n)).collect::<Vec<_>>().leak()
}

/// Arbitrary JSON, biased to values that break parsers.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{Value, json};
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
        Just(json!(1e308)),
        Just(json!("")),
        Just(json!(
            "<script>alert(1)</script><img src=x onerror=alert(1)>"
        )),
        Just(json!("+1 (555) 010-9999")),
        Just(json!("not a phone")),
        Just(json!("ada@example.com")),
        Just(json!("2026-13-45T25:61:61Z")),
        Just(json!("1e400")),
        Just(json!("\u{0}\u{202e}\u{feff}")),
        ".{0,40}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(".{0,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every leaf and container of `value`, as JSON pointers.
fn pointers(value: &serde_json::Value, at: String, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, child) in map {
                let key = key.replace('~', "~0").replace('/', "~1");
                pointers(child, format!("{at}/{key}"), out);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                pointers(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

/// A fixture with some of its fields replaced by arbitrary JSON, as bytes.
fn json_payload(seeds: &'static [Vec<u8>]) -> impl Strategy<Value = Vec<u8>> {
    let replaced = (
        0..seeds.len(),
        proptest::collection::vec((any::<usize>(), json_value()), 1..4),
    )
        .prop_map(move |(seed, replacements)| {
            let mut value: serde_json::Value =
                serde_json::from_slice(&seeds[seed]).expect("fixtures are JSON");
            for (choice, replacement) in replacements {
                let mut all = Vec::new();
                pointers(&value, String::new(), &mut all);
                let pointer = &all[choice % all.len()];
                if let Some(slot) = value.pointer_mut(pointer) {
                    *slot = replacement;
                }
            }
            serde_json::to_vec(&value).expect("JSON serializes")
        });
    prop_oneof![
        4 => replaced,
        1 => mutated(seeds, &[b"\"", b"{", b"}", b"[", b"]", b",", b":", b"\\u0000", b"\\ud800", b"null"]),
    ]
}

fn check_webhook(provider: ChannelProvider, body: Vec<u8>) -> Result<(), TestCaseError> {
    let defaults = ChannelDefaults {
        channel: Channel::Sms,
        direction: Direction::Inbound,
    };
    let received: DateTime<Utc> = Utc.with_ymd_and_hms(2026, 11, 21, 8, 0, 0).unwrap();
    if let Ok(parsed) = parse_webhook(provider, defaults, &body, received) {
        if let Some(html) = &parsed.activity.html {
            prop_assert_eq!(dangerous_markup(html), None, "{}", html);
        }
        prop_assert!(!has_nul(&parsed.raw), "{}", parsed.raw);
    }
    Ok(())
}

/// Whether a string or key in `value` holds a NUL, which Postgres text cannot store.
fn has_nul(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

#[test]
fn fuzz_generic_webhooks() {
    let seeds = fixtures(&["generic_sms.json", "generic_email.json"]);
    fuzz("webhook-generic", json_payload(seeds), |body| {
        check_webhook(ChannelProvider::Generic, body)
    });
}

#[test]
fn fuzz_postmark_webhooks() {
    let seeds = fixtures(&["postmark_inbound.json"]);
    fuzz("webhook-postmark", json_payload(seeds), |body| {
        check_webhook(ChannelProvider::Postmark, body)
    });
}

#[test]
fn fuzz_timelinesai_webhooks() {
    let seeds = fixtures(&[
        "timelinesai_message_new.json",
        "timelinesai_received.json",
        "timelinesai_sent.json",
    ]);
    fuzz("webhook-timelinesai", json_payload(seeds), |body| {
        check_webhook(ChannelProvider::TimelinesAi, body)
    });
}

#[test]
fn fuzz_twilio_webhooks() {
    let seeds = fixtures(&[
        "twilio_sms.form",
        "twilio_call_completed.form",
        "twilio_whatsapp_mms.form",
    ]);
    let tokens: &'static [&'static [u8]] = &[
        b"&",
        b"=",
        b"%",
        b"%ZZ",
        b"%00",
        b"%E2%80%AE",
        b"+",
        b"NumMedia=99",
        b"MediaUrl0=",
        b"&From=",
        b"&To=whatsapp:",
    ];
    fuzz("webhook-twilio", mutated(seeds, tokens), |body| {
        check_webhook(ChannelProvider::Twilio, body)
    });
}

// ---------------------------------------------------------------------------------------
// File names

fn file_name_input() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("../".to_owned()),
        Just("..\\".to_owned()),
        Just(".".to_owned()),
        Just("CON".to_owned()),
        Just(".pdf".to_owned()),
        Just("=?UTF-8?B?".to_owned()),
        Just("?=".to_owned()),
        Just("UTF-8''".to_owned()),
        Just("%E2%82%AC".to_owned()),
        Just("%".to_owned()),
        Just("\u{202e}".to_owned()),
        Just("\u{0}\r\n".to_owned()),
        Just("\"; filename=evil.exe".to_owned()),
        Just("é".repeat(150)),
        "\\PC{0,30}".prop_map(String::from),
        any::<String>(),
    ];
    proptest::collection::vec(piece, 0..6).prop_map(|pieces| pieces.concat())
}

#[test]
fn fuzz_file_names() {
    fuzz("file-name", file_name_input(), |raw| {
        let name = FileName::parse(&raw);
        let name = name.as_str();
        prop_assert!(!name.is_empty());
        prop_assert!(name.len() <= MAX_FILE_NAME_BYTES, "{} bytes", name.len());
        prop_assert!(!name.starts_with('.'), "{name:?}");
        prop_assert!(
            !name
                .chars()
                .any(|c| c.is_control() || "<>:\"/\\|?*".contains(c)),
            "{name:?}"
        );
        prop_assert!(
            !name.chars().any(|c| ('\u{202a}'..='\u{202e}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c)),
            "{name:?}"
        );
        Ok(())
    });
}

// ---------------------------------------------------------------------------------------
// Signatures (message bodies are untrusted text)

#[test]
fn fuzz_signature_extraction() {
    let bodies: &'static [Vec<u8>] = MESSAGES
        .iter()
        .map(|raw| {
            let parsed = parse_email(raw, Utc::now());
            parsed.text.unwrap_or_default().into_bytes()
        })
        .collect::<Vec<_>>()
        .leak();
    let tokens: &'static [&'static [u8]] = &[
        b"\n-- \n",
        b"\nBest,\n",
        b"Tel: +",
        b"+44 (0)20 7946 0958",
        b"https://",
        b"linkedin.com/in/",
        b"@",
        b"\xe2\x80\xae",
        b"\n\n\n",
        b"CEO",
    ];
    fuzz("signature", mutated(bodies, tokens), |bytes| {
        let text = String::from_utf8_lossy(&bytes);
        let hint = SenderHint {
            name: Some("Ada Lovelace"),
            email: Some("ada@example.com"),
            default_region: Some("GB"),
        };
        let _ = extract_signature(&text, &hint);
        Ok(())
    });
}

/// The markup check itself: it must see what runs and not what is only said.
#[test]
fn dangerous_markup_finds_script_not_text_about_it() {
    for bad in [
        r#"<p><a href="javascript:alert(1)">x</a></p>"#,
        r#"<img src="x" onerror="alert(1)">"#,
        "<script>alert(1)</script>",
        r#"<IFRAME src="x"></IFRAME>"#,
    ] {
        assert!(dangerous_markup(bad).is_some(), "{bad}");
    }
    for fine in [
        r#"<p>a href="javascript:alert(1)"&gt;x</p>"#,
        r#"<a href="https://example.com/?on=1" title="onion=1">x</a>"#,
        "<p>&lt;script&gt;</p>",
    ] {
        assert_eq!(dangerous_markup(fine), None, "{fine}");
    }
}
