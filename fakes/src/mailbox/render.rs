//! Turns an expanded thread position into RFC 5322 bytes and Gmail labels.

use chrono::{DateTime, Datelike, Duration, Timelike, Utc, Weekday};
use rand::Rng;

use super::MessageKind;
use super::calendar::{self, Attendee, Invite};
use super::compose::{self, ThreadText, Written, display_name};
use super::encode::{date, header, mailbox, unstructured};
use super::malformed;
use super::mime::{self, Cte, Part};
use super::people::{Client, Person, WordEncoding};
use super::plan::HISTORY_MS;
use super::rng::{Gen, Stream, chance, hash, pick, stream, weighted};
use super::senders::{self, BulkKind};
use super::threads::{Cast, Step, ThreadKind, ThreadPlan, Who};

/// Everything needed to render one message of a thread.
pub(crate) struct Ctx<'a> {
    pub(crate) seed: u64,
    pub(crate) cast: &'a Cast,
    pub(crate) origin: DateTime<Utc>,
    pub(crate) plan: &'a ThreadPlan,
    pub(crate) thread: u32,
    pub(crate) steps: &'a [Step],
}

pub(crate) struct Rendered {
    pub(crate) raw: Vec<u8>,
    pub(crate) kind: MessageKind,
    pub(crate) labels: Vec<String>,
}

impl Ctx<'_> {
    pub(crate) fn at(&self, pos: usize) -> DateTime<Utc> {
        self.origin + Duration::milliseconds(self.steps[pos].at_ms)
    }

    fn rng(&self, pos: usize, salt: u64) -> Gen {
        stream(
            self.seed,
            Stream::Content,
            u64::from(self.thread),
            (pos as u64) | (salt << 40),
        )
    }

    fn key(&self, pos: usize) -> u64 {
        hash(&[self.seed, u64::from(self.thread), pos as u64])
    }

    /// A Message-ID in the style of the sender's client. The thread and
    /// position are embedded so ids are unique by construction.
    pub(crate) fn message_id(&self, pos: usize) -> String {
        let h = self.key(pos);
        let (t, p) = (self.thread, pos);
        match self.plan.kind {
            ThreadKind::Personal | ThreadKind::Injection | ThreadKind::Calendar => {}
            _ => return format!("<{h:016x}.{t:x}.{p}@{}>", self.sender_domain(pos)),
        }
        if self.plan.kind == ThreadKind::Calendar {
            return format!("<calendar-{h:016x}-{t:x}@google.com>");
        }
        let sender = self.cast.person(self.steps[pos].from);
        match sender.client {
            Client::Gmail => format!("<CA{h:016X}{t:x}{p:03x}@mail.gmail.com>"),
            Client::Outlook => {
                let server = format!("BY{}PR{:02}MB{:04}", h % 9 + 1, h % 17 + 1, h % 9000 + 1000);
                format!(
                    "<{server}{h:016X}{t:X}{p:03X}@{server}.namprd{:02}.prod.outlook.com>",
                    h % 20 + 1
                )
            }
            Client::AppleMail => format!(
                "<{:08X}-{:04X}-{:04X}-{p:04X}-{t:012X}@{}>",
                h >> 32,
                (h >> 16) & 0xffff,
                h & 0xffff,
                self.sender_domain(pos)
            ),
            Client::Thunderbird => format!("<{h:x}-{t}-{p}@{}>", self.sender_domain(pos)),
        }
    }

    fn sender_domain(&self, pos: usize) -> String {
        let address = match self.plan.kind {
            ThreadKind::Broadcast => self.cast.bulk[self.plan.actor as usize].address.clone(),
            ThreadKind::Spam | ThreadKind::Malformed => return "mx.example-mail.net".to_string(),
            _ => self.cast.address(self.steps[pos].from).to_string(),
        };
        address.rsplit('@').next().unwrap_or_default().to_string()
    }

    fn mailbox(&self, who: Who) -> String {
        let person = self.cast.person(who);
        mailbox(
            display_name(person).as_deref(),
            person.encoding,
            self.cast.address(who),
        )
    }

    fn mailboxes(&self, list: &[Who]) -> String {
        list.iter()
            .map(|w| self.mailbox(*w))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

pub(crate) fn render(ctx: &Ctx<'_>, pos: usize) -> Rendered {
    match ctx.plan.kind {
        ThreadKind::Personal | ThreadKind::Injection => personal(ctx, pos),
        ThreadKind::Calendar => invite(ctx),
        ThreadKind::Broadcast => broadcast(ctx),
        ThreadKind::Spam => spam(ctx),
        ThreadKind::Malformed => {
            malformed::render(ctx, ctx.plan.actor, ctx.at(0), &ctx.cast.owner.emails[0])
        }
    }
}

/// Assembles header block + root part. `extra` headers go before MIME ones.
fn assemble(headers: &[(&str, String)], root: &Part) -> Vec<u8> {
    let mut out = String::with_capacity(4096);
    out.push_str(&header("MIME-Version", "1.0"));
    for (name, value) in headers {
        out.push_str(&header(name, value));
    }
    root.write(&mut out);
    out.push_str("\r\n");
    out.into_bytes()
}

fn labels(list: &[&str]) -> Vec<String> {
    list.iter().map(|l| l.to_string()).collect()
}

fn inbound_labels(rng: &mut Gen, at_ms: i64, base: &[&str], trash_per_mille: u32) -> Vec<String> {
    let mut out = Vec::new();
    if chance(rng, trash_per_mille) {
        out.push("TRASH");
    } else {
        out.push("INBOX");
    }
    out.extend_from_slice(base);
    let recent = HISTORY_MS - at_ms < 10 * 86_400_000;
    if chance(rng, if recent { 500 } else { 20 }) {
        out.push("UNREAD");
    }
    labels(&out)
}

fn text_cte(rng: &mut Gen, client: Client) -> Cte {
    if chance(rng, 50) {
        return Cte::Base64;
    }
    match client {
        Client::Thunderbird => Cte::EightBit,
        _ => Cte::QuotedPrintable,
    }
}

/// Builds the body part(s) in the shapes real clients produce.
fn body(rng: &mut Gen, client: Client, text: &str, html: &str, boundary: &str) -> Part {
    let html_doc = format!("<div dir=\"ltr\">{html}</div>");
    let shape = match client {
        Client::Gmail => weighted(rng, &[15, 85, 0]),
        Client::Outlook => weighted(rng, &[0, 90, 10]),
        Client::AppleMail => weighted(rng, &[50, 50, 0]),
        Client::Thunderbird => weighted(rng, &[80, 0, 20]),
    };
    let plain_cte = if text.is_ascii() && chance(rng, 700) {
        Cte::SevenBit
    } else {
        text_cte(rng, client)
    };
    let html_cte = if chance(rng, 300) {
        Cte::Base64
    } else {
        Cte::QuotedPrintable
    };
    match shape {
        0 => mime::text("plain", text, plain_cte),
        1 => mime::multipart(
            "alternative",
            boundary,
            &[
                mime::text("plain", text, plain_cte),
                mime::text("html", &html_doc, html_cte),
            ],
        ),
        _ => mime::text(
            "html",
            &format!("<html><body>{html_doc}</body></html>"),
            html_cte,
        ),
    }
}

fn boundary(ctx: &Ctx<'_>, pos: usize, level: u8) -> String {
    let h = hash(&[ctx.key(pos), u64::from(level)]);
    format!("000000000000{h:016x}{level}")
}

const ATTACHMENTS: &[(&str, &str)] = &[
    ("Proposal_Q3.pdf", "application/pdf"),
    ("invoice-2291.pdf", "application/pdf"),
    ("screenshot.png", "image/png"),
    ("pipeline.csv", "text/csv"),
    ("Angebot Müller & Söhne.pdf", "application/pdf"),
    ("Übersicht Q3.csv", "text/csv"),
    ("présentation finale.pdf", "application/pdf"),
];

/// Tiny but structurally valid file contents.
fn attachment_bytes(mime_type: &str, serial: u64) -> Vec<u8> {
    match mime_type {
        "application/pdf" => format!(
            "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n% {serial:x}\n%%EOF\n"
        )
        .into_bytes(),
        "image/png" => vec![
            0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R', 0, 0,
            0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1F, 0x15, 0xC4, 0x89, 0, 0, 0, 0x0A, b'I', b'D',
            b'A', b'T', 0x78, 0x9C, 0x63, 0, 1, 0, 0, 5, 0, 1, 0x0D, 0x0A, 0x2D, 0xB4, 0, 0, 0, 0,
            b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82,
        ],
        _ => format!("stage,deals,value_eur\nlead,12,48000\nqualified,7,91000\nclosed,{},{}\n", serial % 9, serial % 50_000)
            .into_bytes(),
    }
}

fn personal(ctx: &Ctx<'_>, pos: usize) -> Rendered {
    let cast = ctx.cast;
    let (seed, t) = (ctx.seed, ctx.thread);
    let thread = compose::thread_text(seed, t, ctx.plan, cast);
    let step = &ctx.steps[pos];
    let sender: &Person = cast.person(step.from);
    let mut rng = ctx.rng(pos, 1);
    let written = compose::write(seed, t, pos, ctx.plan.kind, ctx.steps, &thread, cast);
    let subject = subject_line(&thread, step, sender, pos);
    let (mut text, mut html) = (written.text(), written.html());
    if pos > 0 {
        let prev = &ctx.steps[pos - 1];
        let previous: Written =
            compose::write(seed, t, pos - 1, ctx.plan.kind, ctx.steps, &thread, cast);
        let prev_subject = subject_line(&thread, prev, cast.person(prev.from), pos - 1);
        let quote = if step.forward {
            compose::forwarded(&previous, prev, ctx.at(pos - 1), &prev_subject, cast)
        } else {
            // Older Outlook builds write "-----Original Message-----"; a person
            // keeps one build, so decide per person.
            let original = hash(&[step.from.person.into()]).is_multiple_of(2);
            compose::quote(
                sender,
                &previous,
                prev,
                ctx.at(pos - 1),
                &prev_subject,
                cast,
                original,
            )
        };
        text.push_str(&quote.text);
        html.push_str(&quote.html);
    }

    let mut headers: Vec<(&str, String)> = Vec::new();
    if !step.from.is_owner() {
        headers.push(("Delivered-To", cast.owner.emails[0].clone()));
    }
    headers.push(("Date", date(sender.zone.local(ctx.at(pos)))));
    headers.push(("Message-ID", ctx.message_id(pos)));
    if pos > 0 {
        let refs: Vec<String> = (0..pos).map(|p| ctx.message_id(p)).collect();
        headers.push(("In-Reply-To", ctx.message_id(pos - 1)));
        headers.push(("References", refs.join(" ")));
    }
    headers.push(("Subject", unstructured(&subject, sender.encoding)));
    headers.push(("From", ctx.mailbox(step.from)));
    headers.push(("To", ctx.mailboxes(&step.to)));
    if !step.cc.is_empty() {
        headers.push(("Cc", ctx.mailboxes(&step.cc)));
    }
    if step.from.is_owner() && !step.bcc.is_empty() {
        headers.push(("Bcc", ctx.mailboxes(&step.bcc)));
    }
    match sender.client {
        Client::Outlook => headers.push(("X-Mailer", "Microsoft Outlook 16.0".to_string())),
        Client::AppleMail => headers.push(("X-Mailer", "Apple Mail (2.3774.600.62)".to_string())),
        Client::Thunderbird => headers.push(("User-Agent", "Mozilla Thunderbird".to_string())),
        Client::Gmail => {}
    }

    let mut root = body(
        &mut rng,
        sender.client,
        &text,
        &html,
        &boundary(ctx, pos, 1),
    );
    if ctx.plan.kind == ThreadKind::Personal && chance(&mut rng, 60) {
        let mut parts = vec![root];
        for i in 0..rng.random_range(1..=2) {
            let (name, mime_type) = pick(&mut rng, ATTACHMENTS);
            parts.push(mime::attachment(
                mime_type,
                name,
                &attachment_bytes(mime_type, ctx.key(pos) + i),
            ));
        }
        root = mime::multipart("mixed", &boundary(ctx, pos, 0), &parts);
    }

    let labels = if step.from.is_owner() {
        let mut l = vec!["SENT"];
        if chance(&mut rng, 300) {
            l.push("IMPORTANT");
        }
        labels(&l)
    } else {
        let mut base = vec!["CATEGORY_PERSONAL"];
        if chance(&mut rng, 450) {
            base.push("IMPORTANT");
        }
        if chance(&mut rng, 30) {
            base.push("STARRED");
        }
        inbound_labels(&mut rng, step.at_ms, &base, 5)
    };
    Rendered {
        raw: assemble(&headers, &root),
        kind: MessageKind::Personal,
        labels,
    }
}

fn subject_line(thread: &ThreadText, step: &Step, sender: &Person, pos: usize) -> String {
    if step.forward {
        format!("Fwd: {}", thread.subject)
    } else if pos == 0 {
        thread.subject.clone()
    } else if sender.client == Client::Outlook {
        format!("RE: {}", thread.subject)
    } else {
        format!("Re: {}", thread.subject)
    }
}

fn invite(ctx: &Ctx<'_>) -> Rendered {
    let cast = ctx.cast;
    let step = &ctx.steps[0];
    let organizer = cast.person(step.from);
    let mut rng = ctx.rng(0, 2);
    let sent = ctx.at(0);
    let mut day = (sent + Duration::days(rng.random_range(1..14))).date_naive();
    // Meetings land on weekdays.
    while matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
        day = day.succ_opt().expect("date in range");
    }
    let hour = rng.random_range(14..22);
    let start = day
        .and_hms_opt(hour, pick(&mut rng, &[0, 30]), 0)
        .expect("valid time")
        .and_utc();
    let minutes = pick(&mut rng, &[25, 30, 45, 60]);
    let summary = pick(
        &mut rng,
        &[
            "Quarterly review",
            "Intro call",
            "Pilot kickoff",
            "Contract walkthrough",
            "Coffee chat",
        ],
    );
    let location = pick(
        &mut rng,
        &[
            "Video call",
            "Meeting room Ada (3rd floor)",
            "Café Müller, Friedrichstraße",
        ],
    );
    let names: Vec<String> = step
        .to
        .iter()
        .map(|w| cast.person(*w).full_name())
        .collect();
    let organizer_name = organizer.full_name();
    let invite = Invite {
        uid: format!("{:016x}{:x}@google.com", ctx.key(0), ctx.thread),
        summary,
        location,
        sent,
        start,
        minutes,
        organizer: Attendee {
            name: &organizer_name,
            email: cast.address(step.from),
        },
        attendees: step
            .to
            .iter()
            .zip(&names)
            .map(|(w, name)| Attendee {
                name,
                email: cast.address(*w),
            })
            .collect(),
    };
    let ics = calendar::ics(&invite);
    let when = cast.owner.zone.local(start);
    let subject = format!(
        "Invitation: {summary} @ {} {}:{:02} ({})",
        when.format("%a %b %-d, %Y"),
        when.hour(),
        when.minute(),
        cast.owner.emails[0]
    );
    let text = format!(
        "{} has invited you to {summary}.\n\nWhen: {}\nWhere: {location}\n\nJoining info: https://meet.example-video.com/{:x}\n\nInvitation from Google Calendar",
        organizer.full_name(),
        when.format("%A %b %-d, %Y %H:%M (%:z)"),
        ctx.key(0) % 0xffff_ffff
    );
    let html = format!(
        "<div>{}</div>",
        super::encode::html_escape(&text).replace('\n', "<br>")
    );
    let alternative = mime::multipart(
        "alternative",
        &boundary(ctx, 0, 1),
        &[
            mime::text("plain", &text, Cte::QuotedPrintable),
            mime::text("html", &html, Cte::QuotedPrintable),
            mime::calendar(&ics),
        ],
    );
    let root = mime::multipart(
        "mixed",
        &boundary(ctx, 0, 0),
        &[
            alternative,
            mime::attachment(
                "application/ics",
                "invite.ics",
                super::encode::crlf(&ics).as_bytes(),
            ),
        ],
    );
    let headers = vec![
        ("Delivered-To", cast.owner.emails[0].clone()),
        ("Date", date(organizer.zone.local(sent))),
        ("Message-ID", ctx.message_id(0)),
        ("Subject", unstructured(&subject, organizer.encoding)),
        ("From", ctx.mailbox(step.from)),
        ("To", ctx.mailboxes(&step.to)),
        (
            "Sender",
            "Google Calendar <calendar-notification@google.com>".to_string(),
        ),
    ];
    let labels = inbound_labels(&mut rng, step.at_ms, &["CATEGORY_PERSONAL", "IMPORTANT"], 0);
    Rendered {
        raw: assemble(&headers, &root),
        kind: MessageKind::CalendarInvite,
        labels,
    }
}

fn broadcast(ctx: &Ctx<'_>) -> Rendered {
    let cast = ctx.cast;
    let sender = &cast.bulk[ctx.plan.actor as usize];
    let mut rng = ctx.rng(0, 3);
    let b = senders::broadcast(&mut rng, sender, &cast.owner.emails[0], ctx.key(0));
    let mut headers = vec![
        ("Delivered-To", cast.owner.emails[0].clone()),
        ("Date", date(cast.owner.zone.local(ctx.at(0)))),
        ("Message-ID", ctx.message_id(0)),
        (
            "Subject",
            unstructured(&b.subject, WordEncoding::QuotedPrintable),
        ),
        (
            "From",
            mailbox(b.display.as_deref(), WordEncoding::Base64, &sender.address),
        ),
        ("To", cast.owner.emails[0].clone()),
    ];
    headers.extend(b.headers.iter().map(|(n, v)| (*n, v.clone())));
    let html_cte = if chance(&mut rng, 400) {
        Cte::Base64
    } else {
        Cte::QuotedPrintable
    };
    let html_only = sender.kind == BulkKind::Newsletter && chance(&mut rng, 200);
    let root = if html_only {
        mime::text("html", &b.html, html_cte)
    } else if sender.kind == BulkKind::MailingList && chance(&mut rng, 700) {
        mime::text("plain", &b.text, Cte::QuotedPrintable)
    } else {
        mime::multipart(
            "alternative",
            &boundary(ctx, 0, 1),
            &[
                mime::text("plain", &b.text, Cte::QuotedPrintable),
                mime::text("html", &b.html, html_cte),
            ],
        )
    };
    let (kind, category) = match sender.kind {
        BulkKind::Newsletter => (
            MessageKind::Bulk,
            pick(&mut rng, &["CATEGORY_PROMOTIONS", "CATEGORY_UPDATES"]),
        ),
        BulkKind::MailingList => (MessageKind::Bulk, "CATEGORY_FORUMS"),
        BulkKind::Notification => (MessageKind::Notification, "CATEGORY_UPDATES"),
    };
    let mut labels = inbound_labels(&mut rng, ctx.steps[0].at_ms, &[category], 30);
    if chance(&mut rng, 500) && !labels.iter().any(|l| l == "UNREAD") {
        labels.push("UNREAD".to_string());
    }
    Rendered {
        raw: assemble(&headers, &root),
        kind,
        labels,
    }
}

/// The spam sender address for a spam thread (also used by ground truth).
pub(crate) fn spam_sender(seed: u64, thread: u32, actor: u32) -> (String, String, String) {
    let mut rng = stream(seed, Stream::Content, u64::from(thread), 4 << 40);
    senders::spammer(&mut rng, u64::from(actor))
}

fn spam(ctx: &Ctx<'_>) -> Rendered {
    let (name, address, subject) = spam_sender(ctx.seed, ctx.thread, ctx.plan.actor);
    let html = format!(
        "<html><body><p>Dear customer,</p><p>{subject}. <a href=\"https://{}/claim\">Click here</a> to continue.</p></body></html>",
        address.rsplit('@').next().unwrap_or_default()
    );
    let headers = vec![
        ("Delivered-To", ctx.cast.owner.emails[0].clone()),
        ("Date", date(ctx.cast.owner.zone.local(ctx.at(0)))),
        ("Message-ID", ctx.message_id(0)),
        ("Subject", subject),
        ("From", mailbox(Some(&name), WordEncoding::Base64, &address)),
        ("To", ctx.cast.owner.emails[0].clone()),
    ];
    Rendered {
        raw: assemble(&headers, &mime::text("html", &html, Cte::Base64)),
        kind: MessageKind::Spam,
        labels: labels(&["SPAM", "UNREAD"]),
    }
}
