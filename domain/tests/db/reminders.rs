//! Keep-in-touch reminders against Postgres: every channel moves the due date (through
//! the real webhook ingest and processing, or the interactions store), snooze, done,
//! tag defaults, user scoping, and suggestions on the demo mailbox checked against its
//! generator's own record of who wrote to whom when.

use std::collections::{HashMap, HashSet};

use api::reminders::{Cadence, ContactSetting, Frequency, Snooze};
use chrono::{DateTime, Duration, NaiveDate, SubsecRound, TimeZone, Utc};
use domain::channels::providers::parse_webhook;
use domain::channels::{ChannelDefaults, ChannelProvider, NewChannel};
use domain::ingest::{IncomingEmail, IngestFilter};
use domain::jobs::WorkerId;
use domain::processing::{ContactsTouched, Processor, ProcessorOptions, RefreshContactsTouched};
use domain::reminders::suggest::{MIN_DAYS, MIN_QUIET_DAYS, MIN_STRENGTH, QUIET_FACTOR};
use domain::{Db, DomainError, UserId};
use fakes::mailbox::{Mailbox, MailboxSpec};
use uuid::Uuid;

use crate::helpers::{TestUser, fresh_db};

const DANA: &str = "dana@acme.example";
const MONTH: ContactSetting = ContactSetting::Set(Frequency::Every(Cadence::Month));

/// Processes everything waiting, then runs the hook the workers run after each batch
/// (it refreshes the touched contacts' stats).
async fn drain(db: &Db) {
    let outcome = Processor::new(db, WorkerId::new("reminders"), ProcessorOptions::default())
        .drain()
        .await
        .unwrap();
    assert_eq!(outcome.failed + outcome.dead, 0);
    let hook = RefreshContactsTouched::new(db);
    for (user, contacts) in &outcome.touched {
        hook.contacts_touched(*user, contacts).await;
    }
}

/// Posts one activity with Dana to a generic webhook channel, as a provider would.
async fn deliver(db: &Db, me: UserId, id: &str, channel: &str, direction: &str, at: DateTime<Utc>) {
    let scope = db.for_user(me);
    let (hook, key) = scope
        .channels()
        .create(&NewChannel {
            name: format!("hook {id}"),
            provider: ChannelProvider::Generic,
            defaults: ChannelDefaults {
                channel: api::Channel::Sms,
                direction: api::Direction::Inbound,
            },
        })
        .await
        .unwrap();
    let (from, to) = if direction == "inbound" {
        (DANA, "me@example.com")
    } else {
        ("me@example.com", DANA)
    };
    let body = serde_json::json!({
        "external_id": id, "channel": channel, "direction": direction,
        "occurred_at": at.to_rfc3339(), "from": {"email": from}, "to": [{"email": to}],
        "subject": format!("{channel} {direction}"), "text": "hello"
    })
    .to_string();
    let auth = db.authorize_channel(hook.id, key.expose()).await.unwrap();
    let parsed = parse_webhook(auth.provider, auth.defaults, body.as_bytes(), Utc::now()).unwrap();
    db.ingest_webhook(&auth, &parsed).await.unwrap();
    drain(db).await;
}

async fn due_contacts(db: &Db, me: UserId, now: DateTime<Utc>) -> Vec<Uuid> {
    db.for_user(me)
        .reminders()
        .due(now, 50)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.contact)
        .collect()
}

#[tokio::test]
async fn every_channel_moves_the_due_date() {
    let db = fresh_db().await;
    let owner = TestUser::create(&db, "me@example.com").await;
    let dana = owner.contact("Dana Ito").email(DANA).insert().await;
    let reminders = db.for_user(owner.id).reminders();
    reminders.set(dana, MONTH).await.unwrap();
    let set = reminders.for_contact(dana, Utc::now()).await.unwrap();
    assert_eq!(set.frequency, Some(Frequency::Every(Cadence::Month)));
    assert!(
        set.due_at.unwrap() <= Utc::now(),
        "never in touch: due from when it was set"
    );

    let start = Utc::now() - Duration::days(200);
    let channels = [
        ("email", "inbound"),
        ("email", "outbound"),
        ("whatsapp", "inbound"),
        ("sms", "outbound"),
        ("call", "inbound"),
        ("meeting", "outbound"),
        ("messenger", "inbound"),
        ("instagram", "outbound"),
    ];
    for (i, (channel, direction)) in channels.into_iter().enumerate() {
        let at = (start + Duration::days(20 * i as i64)).with_timezone(&Utc);
        let at = Utc.timestamp_opt(at.timestamp(), 0).unwrap();
        deliver(&db, owner.id, &format!("m-{i}"), channel, direction, at).await;
        let state = reminders.for_contact(dana, Utc::now()).await.unwrap();
        assert_eq!(
            state.last_interaction_at,
            Some(at),
            "{channel} {direction} is the last interaction"
        );
        assert_eq!(
            state.due_at,
            Some(Frequency::Every(Cadence::Month).due_after(at)),
            "{channel} {direction} moved the due date"
        );
    }

    // A logged interaction (a lunch yesterday) moves it too.
    let lunch = Utc
        .timestamp_opt((Utc::now() - Duration::days(1)).timestamp(), 0)
        .unwrap();
    let draft = api::interactions::InteractionForm {
        kind: "lunch".into(),
        subject: "Lunch".into(),
        date: lunch.format("%Y-%m-%d").to_string(),
        time: lunch.format("%H:%M:%S").to_string(),
        ..Default::default()
    }
    .parse(&Utc)
    .unwrap();
    db.for_user(owner.id)
        .interactions()
        .create(domain::interactions::LoggedOn::Contact(dana), &draft)
        .await
        .unwrap();
    let state = reminders.for_contact(dana, Utc::now()).await.unwrap();
    assert_eq!(state.last_interaction_at, Some(lunch));
    assert_eq!(
        state.due_at,
        Some(Frequency::Every(Cadence::Month).due_after(lunch))
    );
}

#[tokio::test]
async fn overdue_contacts_are_listed_most_overdue_first_and_snooze_and_done_clear_them() {
    let db = fresh_db().await;
    let owner = TestUser::create(&db, "me@example.com").await;
    // Postgres keeps microseconds.
    let now = Utc::now().trunc_subsecs(6);
    let mut people = Vec::new();
    for (name, address, days_ago) in [
        ("Dana Ito", DANA, 45),
        ("Sam Lee", "sam@acme.example", 90),
        ("Ren Ota", "ren@acme.example", 5),
        ("Kai Moe", "kai@acme.example", 27),
    ] {
        let id = owner.contact(name).email(address).insert().await;
        owner
            .email(now - Duration::days(days_ago))
            .from(address, id)
            .state("completed")
            .insert()
            .await;
        people.push(id);
    }
    let [dana, sam, ren, kai] = people[..] else {
        unreachable!()
    };
    let scope = db.for_user(owner.id);
    domain::contacts::stats::refresh(scope, &people)
        .await
        .unwrap();
    let reminders = scope.reminders();
    assert_eq!(reminders.set_many(&people, MONTH).await.unwrap(), 4);

    // Sam (60 days over), Dana (15), Kai (due in 3 days); Ren is not due for weeks.
    let due = reminders.due(now, 50).await.unwrap();
    assert_eq!(
        due.iter().map(|r| r.contact).collect::<Vec<_>>(),
        vec![sam, dana, kai]
    );
    assert!(
        (59..=61).contains(&due[0].days_overdue),
        "{}",
        due[0].days_overdue
    );
    assert!(due[2].days_overdue < 0);
    let last = due[1].last.as_ref().expect("the last interaction is shown");
    assert_eq!(last.channel, api::Channel::Email);
    assert!(!due_contacts(&db, owner.id, now).await.contains(&ren));

    // Snoozed for a week: gone, and due when the snooze ends.
    let until = reminders.snooze(sam, Snooze::Week, now).await.unwrap();
    assert!(!due_contacts(&db, owner.id, now).await.contains(&sam));
    assert_eq!(
        reminders.for_contact(sam, now).await.unwrap().due_at,
        Some(until)
    );
    assert!(due_contacts(&db, owner.id, until).await.contains(&sam));

    // Done with a note: a logged interaction now, so Dana is not due for a month.
    let logged = reminders
        .done(dana, Some("Called about the move".into()), Utc::now())
        .await
        .unwrap();
    assert_eq!(
        logged.draft.description.as_deref(),
        Some("Called about the move")
    );
    let state = reminders.for_contact(dana, Utc::now()).await.unwrap();
    assert_eq!(state.last_interaction_at, logged.draft.occurred_at);
    assert!(state.due_at.unwrap() > Utc::now() + Duration::days(27));
    assert!(
        !due_contacts(&db, owner.id, Utc::now())
            .await
            .contains(&dana)
    );
    let timeline: i64 = sqlx::query_scalar(
        "select count(*) from activity_participants where contact_id = $1 and role = 'attendee'",
    )
    .bind(dana)
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(timeline, 1, "done is on the timeline");

    // None: off the list whatever happens.
    reminders.set(kai, ContactSetting::Off).await.unwrap();
    assert_eq!(reminders.for_contact(kai, now).await.unwrap().due_at, None);
    assert!(!due_contacts(&db, owner.id, now).await.contains(&kai));
}

#[tokio::test]
async fn tag_defaults_apply_to_contacts_that_chose_nothing() {
    let db = fresh_db().await;
    let owner = TestUser::create(&db, "me@example.com").await;
    let now = Utc::now();
    let dana = owner.contact("Dana Ito").email(DANA).insert().await;
    owner
        .email(now - Duration::days(10))
        .from(DANA, dana)
        .state("completed")
        .insert()
        .await;
    let scope = db.for_user(owner.id);
    domain::contacts::stats::refresh(scope, &[dana])
        .await
        .unwrap();
    scope.contacts().tag(&[dana], "Family").await.unwrap();
    let reminders = scope.reminders();
    assert_eq!(
        reminders.for_contact(dana, now).await.unwrap().frequency,
        None
    );

    // The contacts page reads who is due only for a user who set a frequency.
    let keeps_in_touch = || async { db.signed_in(owner.id).await.unwrap().1.keeps_in_touch };
    assert!(!keeps_in_touch().await);
    reminders
        .set_tag_default("family", Some(Frequency::Every(Cadence::Week)))
        .await
        .unwrap();
    assert!(keeps_in_touch().await, "a tag's default");
    let state = reminders.for_contact(dana, now).await.unwrap();
    assert_eq!(state.frequency, Some(Frequency::Every(Cadence::Week)));
    assert_eq!(state.from_tag.as_deref(), Some("family"));
    assert!(due_contacts(&db, owner.id, now).await.contains(&dana));

    // The contact's own choice wins: a month, then none.
    reminders.set(dana, MONTH).await.unwrap();
    let state = reminders.for_contact(dana, now).await.unwrap();
    assert_eq!(
        (state.frequency, state.from_tag),
        (Some(Frequency::Every(Cadence::Month)), None)
    );
    assert!(!due_contacts(&db, owner.id, now).await.contains(&dana));
    reminders.set(dana, ContactSetting::Off).await.unwrap();
    assert_eq!(
        reminders.for_contact(dana, now).await.unwrap().frequency,
        None
    );

    // Back to the tag's default, which is then removed.
    reminders
        .set(dana, ContactSetting::TagDefault)
        .await
        .unwrap();
    assert!(due_contacts(&db, owner.id, now).await.contains(&dana));
    reminders.set_tag_default("family", None).await.unwrap();
    assert!(!due_contacts(&db, owner.id, now).await.contains(&dana));
    assert!(
        keeps_in_touch().await,
        "Dana's own setting (the tag's default) is kept"
    );
    assert!(matches!(
        reminders
            .set_tag_default("  ", Some(Frequency::Days(3)))
            .await,
        Err(DomainError::Invalid { field: "tag", .. })
    ));
}

#[tokio::test]
async fn another_users_contact_is_not_found_and_never_touched() {
    let db = fresh_db().await;
    let alex = TestUser::create(&db, "alex@example.com").await;
    let sam = TestUser::create(&db, "sam@example.com").await;
    let theirs = sam.contact("Dana Ito").email(DANA).insert().await;
    let mine = alex
        .contact("Ren Ota")
        .email("ren@acme.example")
        .insert()
        .await;
    let r = db.for_user(alex.id).reminders();
    let now = Utc::now();
    let not_found = |e: Result<_, DomainError>| matches!(e, Err(DomainError::NotFound("contact")));
    assert!(not_found(r.set(theirs, MONTH).await));
    assert!(not_found(
        r.snooze(theirs, Snooze::Week, now).await.map(|_| ())
    ));
    assert!(not_found(r.done(theirs, None, now).await.map(|_| ())));
    assert!(not_found(r.for_contact(theirs, now).await.map(|_| ())));
    assert!(not_found(r.dismiss(theirs).await));
    assert_eq!(r.set_many(&[theirs, mine], MONTH).await.unwrap(), 1);
    let rows: i64 = sqlx::query_scalar("select count(*) from keep_in_touch where user_id = $1")
        .bind(sam.id.0)
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(rows, 0);
}

/// Going quiet by the generator's own record: at least MIN_DAYS days, silent for
/// QUIET_FACTOR times the median gap and at least MIN_QUIET_DAYS.
fn quiet_by_truth(days: &[NaiveDate], today: NaiveDate) -> bool {
    if days.len() < MIN_DAYS {
        return false;
    }
    let mut gaps: Vec<i64> = days.windows(2).map(|w| (w[1] - w[0]).num_days()).collect();
    gaps.sort_unstable();
    let n = gaps.len();
    let median = if n % 2 == 1 {
        gaps[n / 2] as f64
    } else {
        (gaps[n / 2 - 1] + gaps[n / 2]) as f64 / 2.0
    };
    let quiet = (today - days[days.len() - 1]).num_days();
    quiet >= MIN_QUIET_DAYS && quiet as f64 >= QUIET_FACTOR * median
}

#[tokio::test]
async fn suggestions_on_the_demo_mailbox_are_strong_people_quiet_for_their_own_rhythm() {
    let db = fresh_db().await;
    let spec = MailboxSpec::demo(3_000);
    let mailbox = Mailbox::generate(&spec);
    let end = spec.end;
    let owner = TestUser::create(&db, &spec.owner_email).await;
    let emails: Vec<IncomingEmail> = mailbox.messages().map(IncomingEmail::from).collect();
    let scope = db.for_user(owner.id);
    scope
        .mail()
        .store_emails(owner.account, &emails, &IngestFilter::default())
        .await
        .unwrap();
    drain(&db).await;
    domain::contacts::stats::recompute_all_as_of(scope, end)
        .await
        .unwrap();

    let truth = mailbox.truth();
    // Each generated person's contact, when one contact holds all their addresses.
    let contact_rows: Vec<(Uuid, String, i16)> = sqlx::query_as(
        "select ci.contact_id, ci.value, s.strength from contact_identities ci
         join contacts c on c.id = ci.contact_id and c.merged_into is null
         join contact_stats s on s.contact_id = ci.contact_id
         where ci.user_id = $1 and ci.kind = 'email'",
    )
    .bind(owner.id.0)
    .fetch_all(db.pool())
    .await
    .unwrap();
    let contact_of: HashMap<&str, (Uuid, i16)> = contact_rows
        .iter()
        .map(|(c, v, s)| (v.as_str(), (*c, *s)))
        .collect();
    let today = end.date_naive();
    let mut expected = HashSet::new();
    let mut quiet_but_weak = 0;
    let mut strong_not_quiet = 0;
    for person in &truth.people {
        let contacts: HashSet<_> = person
            .emails
            .iter()
            .filter_map(|e| contact_of.get(e.as_str()))
            .collect();
        let [(contact, strength)] = contacts.into_iter().collect::<Vec<_>>()[..] else {
            continue;
        };
        // The days they and the owner wrote to each other, as the generator planned them.
        let mut days: Vec<NaiveDate> = person
            .exchanged_at
            .iter()
            .map(|at| at.date_naive())
            .collect();
        days.dedup();
        let quiet = quiet_by_truth(&days, today);
        match (quiet, *strength >= MIN_STRENGTH) {
            (true, true) => {
                expected.insert(*contact);
            }
            (true, false) => quiet_but_weak += 1,
            (false, true) => strong_not_quiet += 1,
            (false, false) => {}
        }
    }
    let suggested = scope.reminders().suggestions(end, 1_000).await.unwrap();
    let got: HashSet<Uuid> = suggested.iter().map(|s| s.contact).collect();
    assert!(
        !expected.is_empty(),
        "the demo mailbox has people going quiet"
    );
    assert!(
        strong_not_quiet > 0 && quiet_but_weak > 0,
        "both filters matter: {strong_not_quiet} strong but in rhythm, {quiet_but_weak} quiet but weak"
    );
    assert_eq!(
        got.intersection(&expected).count(),
        expected.len(),
        "every strong, quiet person is suggested: missing {:?}",
        expected.difference(&got).collect::<Vec<_>>()
    );
    let extra: Vec<_> = suggested
        .iter()
        .filter(|s| !expected.contains(&s.contact))
        .collect();
    assert!(
        extra.is_empty(),
        "suggested but not quiet by the generator's record: {extra:?}"
    );
    for s in &suggested {
        assert!(s.quiet_days as f64 >= QUIET_FACTOR * s.rhythm_days);
        assert_eq!(s.proposed, Frequency::for_rhythm(s.rhythm_days));
    }

    // Dismissed is never offered again; accepting (a frequency) takes it off too.
    let first = suggested[0].contact;
    scope.reminders().dismiss(first).await.unwrap();
    if let Some(second) = suggested.get(1) {
        scope
            .reminders()
            .set(second.contact, ContactSetting::Set(second.proposed))
            .await
            .unwrap();
    }
    let again: HashSet<Uuid> = scope
        .reminders()
        .suggestions(end, 1_000)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.contact)
        .collect();
    assert!(!again.contains(&first));
    assert_eq!(again.len(), got.len() - suggested.len().min(2));
}

#[tokio::test]
async fn ask_answers_who_to_reach_out_to_overdue_meetings_and_the_last_meeting_with_citations() {
    let db = fresh_db().await;
    let owner = TestUser::create(&db, "me@example.com").await;
    let now = Utc::now();
    let dana = owner.contact("Dana Ito").email(DANA).insert().await;
    let sam = owner
        .contact("Sam Lee")
        .email("sam@acme.example")
        .insert()
        .await;
    owner
        .email(now - Duration::days(40))
        .from(DANA, dana)
        .state("completed")
        .insert()
        .await;
    let scope = db.for_user(owner.id);
    domain::contacts::stats::refresh(scope, &[dana, sam])
        .await
        .unwrap();
    scope.reminders().set(dana, MONTH).await.unwrap();

    let ask = |q: &'static str| {
        let db = db.clone();
        async move {
            domain::ask::offline::answer(db.for_user(owner.id), q, Utc::now())
                .await
                .unwrap()
        }
    };
    let dana_link = format!("[Dana Ito](/contacts/{dana})");

    let overdue = ask("Who is overdue?").await;
    assert!(!overdue.refused);
    assert!(overdue.text.contains(&dana_link), "{}", overdue.text);
    assert!(overdue.text.contains("days overdue"), "{}", overdue.text);
    let reach = ask("Who should I reach out to?").await;
    assert!(reach.text.contains(&dana_link), "{}", reach.text);
    assert!(!reach.text.contains("Sam Lee"), "{}", reach.text);

    // A meeting with Sam three days ago (logged), and one later today.
    let log = |subject: &str, at: DateTime<Utc>| api::interactions::InteractionForm {
        kind: "meeting".into(),
        subject: subject.into(),
        date: at.format("%Y-%m-%d").to_string(),
        time: at.format("%H:%M").to_string(),
        duration_minutes: "30".into(),
        ..Default::default()
    };
    let past = now - Duration::days(3);
    let logged = scope
        .interactions()
        .create(
            domain::interactions::LoggedOn::Contact(sam),
            &log("Roadmap review", past).parse(&Utc).unwrap(),
        )
        .await
        .unwrap();
    let last = ask("When did I last meet Sam?").await;
    assert!(!last.refused, "{}", last.text);
    assert!(
        last.text.contains(&format!(
            "(/contacts/{sam}#activity-{})",
            logged.activity_id.unwrap()
        )),
        "cites the meeting: {}",
        last.text
    );
    assert_eq!(
        last.value,
        domain::ask::AnswerValue::Date(logged.draft.occurred_at.unwrap())
    );
    // No meeting with Dana: the answer says so, then when they were last in touch (the
    // mail 40 days ago), citing it.
    let dana_last = ask("When did I last meet Dana?").await;
    assert!(dana_last.text.contains("no meeting"), "{}", dana_last.text);
    assert!(
        dana_last.text.contains(&format!(
            "last in touch on {} (Email)",
            (now - Duration::days(40)).format("%Y-%m-%d")
        )),
        "{}",
        dana_last.text
    );
    assert!(
        dana_last
            .text
            .contains(&format!("(/contacts/{dana}#activity-")),
        "{}",
        dana_last.text
    );
    assert!(ask("When did I last meet Zebedee?").await.refused);

    // Today's meeting is this week whatever the day; last month's is not.
    scope
        .interactions()
        .create(
            domain::interactions::LoggedOn::Contact(sam),
            &log("Standup", now).parse(&Utc).unwrap(),
        )
        .await
        .unwrap();
    let meetings = ask("What meetings do I have this week?").await;
    assert!(!meetings.refused, "{}", meetings.text);
    assert!(meetings.text.contains("Standup"), "{}", meetings.text);
    assert!(
        meetings
            .text
            .contains(&format!("[Sam Lee](/contacts/{sam})")),
        "{}",
        meetings.text
    );
    let next = ask("What meetings do I have next week?").await;
    assert!(next.text.contains("no meetings next week"), "{}", next.text);
}
