//! The parser against the synthetic mailbox, whose ground truth says what each message holds.

use std::collections::HashMap;

use chrono::Utc;
use domain::mail::{DateSource, REMOTE_IMAGE_ATTRIBUTE, frame_html, parse_email, sanitize_html};
use fakes::mailbox::{Mailbox, MailboxSpec, MessageKind};

#[test]
fn parses_a_generated_mailbox_and_decodes_names() {
    let mailbox = Mailbox::generate(&MailboxSpec::demo(2_000));
    let truth = mailbox.truth();
    let names: HashMap<&str, &str> = truth
        .people
        .iter()
        .flat_map(|p| p.emails.iter().map(|e| (e.as_str(), p.name.as_str())))
        .collect();
    let (mut encoded_names, mut html_only, mut checked_names) = (0, 0, 0);
    let mut filenames = Vec::new();
    for message in mailbox.messages() {
        let parsed = parse_email(&message.raw, message.internal_date);
        assert_eq!(parsed.size, message.raw.len());
        if message.kind == MessageKind::Malformed {
            assert!(
                !parsed.problems.is_empty(),
                "{} is malformed but was not flagged",
                message.id
            );
            continue;
        }
        assert!(
            parsed.problems.is_empty(),
            "{}: {:?}",
            message.id,
            parsed.problems
        );
        assert_eq!(parsed.date_source, DateSource::Header);
        assert!(parsed.message_id.is_some() && !parsed.from.is_empty());
        assert!(parsed.text.is_some(), "{} has a text body", message.id);
        assert!(!parsed.snippet.is_empty() && parsed.snippet.chars().count() <= 201);

        for mailbox in parsed.from.iter().chain(&parsed.to).chain(&parsed.cc) {
            assert_eq!(
                mailbox.address.as_str(),
                mailbox.address.as_str().to_lowercase()
            );
            let (Some(name), Some(expected)) = (&mailbox.name, names.get(mailbox.address.as_str()))
            else {
                continue;
            };
            // Headers show "First Last" or "Last, First".
            let canonical = match name.split_once(", ") {
                Some((last, first)) => format!("{first} {last}"),
                None => name.clone(),
            };
            assert_eq!(&canonical, expected, "{}", message.id);
            checked_names += 1;
        }
        let raw = String::from_utf8_lossy(&message.raw);
        if raw.contains("=?UTF-8?") && !parsed.from.iter().all(|m| m.name.is_none()) {
            encoded_names += 1;
        }
        if raw.contains("text/html") && !raw.contains("text/plain") {
            html_only += 1;
            let text = parsed.text.as_deref().unwrap();
            assert!(!text.contains("<div") && !text.contains("<p>"), "{text}");
        }
        if let Some(html) = &parsed.html {
            let lower = html.to_lowercase();
            assert!(!lower.contains("<script"), "{}", message.id);
            assert!(!lower.contains(" src=\"http"), "{}", message.id);
        }
        filenames.extend(parsed.attachments.into_iter().filter_map(|a| a.filename));
        if message.kind == MessageKind::CalendarInvite {
            assert!(
                parsed
                    .calendar
                    .iter()
                    .any(|c| c.method.as_deref() == Some("REQUEST"))
            );
        }
        if message.kind == MessageKind::Bulk {
            assert!(
                parsed.list_id.is_some()
                    || !parsed.list_unsubscribe.is_empty()
                    || parsed.precedence.is_some(),
                "{} shows bulk markers",
                message.id
            );
        }
    }
    assert!(checked_names > 1_000, "checked {checked_names} names");
    assert!(encoded_names > 10, "{encoded_names} RFC 2047 names");
    assert!(html_only > 0, "the mailbox has HTML-only mail");
    assert!(
        filenames.iter().any(|f| f == "Angebot Müller & Söhne.pdf"
            || f == "Übersicht Q3.csv"
            || f == "présentation finale.pdf"),
        "RFC 2231 file names decode: {filenames:?}"
    );
}

#[test]
fn malformed_mail_is_flagged_and_still_read() {
    let received = Utc::now();
    let no_date = b"From: printer@office.example\r\nSubject: scan\r\n\r\nbody\r\n";
    let parsed = parse_email(no_date, received);
    assert_eq!(
        (parsed.date, parsed.date_source),
        (received, DateSource::Received)
    );
    assert!(
        parsed
            .problems
            .iter()
            .any(|p| p.to_string() == "missing Date header")
    );
    assert_eq!(parsed.from[0].address.as_str(), "printer@office.example");

    let bad_date = b"Date: someday soon\r\nFrom: a@b.example\r\n\r\nx\r\n";
    let parsed = parse_email(bad_date, received);
    assert_eq!(parsed.date_source, DateSource::Received);
    assert!(
        parsed.problems[0]
            .to_string()
            .starts_with("unreadable Date header")
    );

    let broken_fold = b"Date: Thu, 2 Jan 2025 03:04:05 +0000\r\nSubject: one\r\ntwo\r\nFrom: a@b.example\r\n\r\nx\r\n";
    let parsed = parse_email(broken_fold, received);
    assert!(
        parsed
            .problems
            .iter()
            .any(|p| p.to_string().contains("malformed header line"))
    );

    for garbage in [
        &b""[..],
        b"\0\0\0",
        b"\xff\xfe<html",
        b"--\r\n\r\n--",
        b":\r\n:\r\n\r\n",
    ] {
        let parsed = parse_email(garbage, received);
        assert_eq!(parsed.size, garbage.len());
    }
}

#[test]
fn html_only_mail_gets_a_text_body_and_safe_html() {
    let raw = b"Date: Thu, 2 Jan 2025 03:04:05 +0000\r\nFrom: News <news@x.example>\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><head><style>p{color:red}</style><script>alert(1)</script></head><body><h1>Big news</h1><p>Read <a href=\"https://x.example/a\" onclick=\"steal()\">this</a>.</p><img src=\"https://track.example/pixel.gif\" alt=\"a>b\"><img src=\"cid:logo\"><a href=\"javascript:alert(1)\">bad</a></body></html>\r\n";
    let parsed = parse_email(raw, Utc::now());
    let text = parsed.text.unwrap();
    assert!(
        text.contains("Big news") && text.contains("Read this."),
        "{text}"
    );
    assert!(!text.contains("alert") && !text.contains("color"), "{text}");
    let html = parsed.html.unwrap();
    assert!(
        !html.contains("<script") && !html.contains("onclick") && !html.contains("javascript:")
    );
    assert!(html.contains(&format!(
        "{REMOTE_IMAGE_ATTRIBUTE}=\"https://track.example/pixel.gif\""
    )));
    assert!(!html.contains(" src=\"https://"), "{html}");
    assert!(
        html.contains("src=\"cid:logo\""),
        "inline images stay: {html}"
    );
    assert!(html.contains("href=\"https://x.example/a\""));
}

#[test]
fn sanitizing_blocks_every_remote_image_form() {
    for input in [
        "<img src=HTTPS://t.example/x>",
        "<img alt='\"' src='http://t.example/x'>",
        "<img src=\"//t.example/x\">",
        "<img srcset=\"https://t.example/x 2x\">",
        "<div style=\"background:url(https://t.example/x)\">a</div>",
        "<svg><image href=\"https://t.example/x\"/></svg>",
        "<img data-remote-src=\"x\" src=\"data:text/html,<script>\">",
    ] {
        let clean = sanitize_html(input).to_lowercase();
        assert!(
            !clean.contains(" src=\"http") && !clean.contains(" src=\"//"),
            "{input} -> {clean}"
        );
        assert!(
            !clean.contains("srcset") && !clean.contains("style") && !clean.contains("<svg"),
            "{input} -> {clean}"
        );
        assert!(!clean.contains("data:text"), "{input} -> {clean}");
    }
}

#[test]
fn the_mail_frame_shows_hostile_html_harmless() {
    let hostile = concat!(
        "<html><head><base href=\"https://evil.example/\"><meta http-equiv=\"refresh\" content=\"0;url=https://evil.example/\">",
        "<style>body{background:url(https://t.example/css.png)}</style><script>alert(1)</script></head><body>",
        "<p onclick=\"steal()\" style=\"background:url(https://t.example/inline.png)\">Hi</p>",
        "<img src=\"x\" onerror=\"alert(1)\"><img srcset=\"https://t.example/1x.png 1x\">",
        "<img src=\"https://t.example/pixel.gif\" width=\"1\" height=\"1\">",
        "<a href=\"javascript:alert(1)\">js</a><a href=\"https://ok.example/\">ok</a>",
        "<form action=\"https://evil.example/\"><input name=\"password\"><button>Go</button></form>",
        "<iframe src=\"https://evil.example/\"></iframe><object data=\"https://evil.example/x\"></object>",
        "<svg onload=\"alert(1)\"><image href=\"https://t.example/svg.png\"/></svg>",
        "<blockquote>older<blockquote>oldest</blockquote></blockquote><p>after</p>",
        "</body></html>",
    );
    let stored = sanitize_html(hostile);
    for allowed in [false, true] {
        let html = frame_html(&stored, allowed).to_lowercase();
        for banned in [
            "<script",
            "onclick",
            "onerror",
            "onload",
            "javascript:",
            "srcset",
            "<style",
            "style=",
            "url(",
            "<meta",
            "<base",
            "<form",
            "<input",
            "<iframe",
            "<object",
            "<svg",
            "<image",
            "evil.example",
        ] {
            assert!(!html.contains(banned), "{banned} survived: {html}");
        }
        assert!(html.contains("href=\"https://ok.example/\""), "{html}");
        assert!(
            html.contains("target=\"_blank\""),
            "links leave the frame: {html}"
        );
        let pixel_loads = html.contains(" src=\"https://t.example/pixel.gif\"");
        assert_eq!(pixel_loads, allowed, "{html}");
        let placeholder = format!("{REMOTE_IMAGE_ATTRIBUTE}=\"https://t.example/pixel.gif\"");
        assert_eq!(
            html.contains(&placeholder),
            !allowed,
            "a blocked URL stays for the placeholder: {html}"
        );
        // One fold around the outer quote only.
        assert_eq!(html.matches("<details").count(), 1, "{html}");
        assert!(
            html.contains("</blockquote></blockquote></details><p>after</p>"),
            "{html}"
        );
    }
    assert_eq!(
        sanitize_html(&stored),
        stored,
        "sanitizing stored HTML again keeps it"
    );
}
