//! The user's time zone: the browser's is adopted until the user picks one; interactions
//! are entered on the user's clock, their calendar days are the user's days, and the
//! calendar, the ICS feed and Ask read them back on that clock.

use api::interactions::{InteractionForm, LocalTime};
use chrono::{Datelike, Days, NaiveDate, Utc, Weekday};
use domain::interactions::LoggedOn;
use domain::zone::UserZone;

use crate::helpers::{TestUser, fresh_db};

/// A Tuesday at least a week ahead: on the calendar, not yet over in any zone.
fn a_tuesday_ahead() -> NaiveDate {
    let mut day = Utc::now().date_naive() + Days::new(7);
    while day.weekday() != Weekday::Tue {
        day = day + Days::new(1);
    }
    day
}

fn form(subject: &str, date: NaiveDate, time: &str, minutes: &str) -> InteractionForm {
    InteractionForm {
        kind: "meeting".into(),
        subject: subject.into(),
        date: date.to_string(),
        time: time.into(),
        duration_minutes: minutes.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn the_browsers_zone_is_adopted_until_the_user_picks_one() {
    let db = fresh_db().await;
    let me = TestUser::create(&db, "tz@example.com").await;
    let scope = db.for_user(me.id);
    assert_eq!(
        scope.time_zone_setting().await.unwrap(),
        (UserZone::UTC, false)
    );

    let tokyo = UserZone::parse("Asia/Tokyo").unwrap();
    assert!(scope.adopt_browser_time_zone(tokyo).await.unwrap());
    assert!(
        !scope.adopt_browser_time_zone(tokyo).await.unwrap(),
        "no change twice"
    );
    assert_eq!(scope.time_zone_setting().await.unwrap(), (tokyo, false));

    let paris = UserZone::parse("Europe/Paris").unwrap();
    scope.choose_time_zone(paris).await.unwrap();
    assert!(
        !scope.adopt_browser_time_zone(tokyo).await.unwrap(),
        "a picked zone is not replaced by the browser's"
    );
    assert_eq!(scope.time_zone_setting().await.unwrap(), (paris, true));

    let other = TestUser::create(&db, "other@example.com").await;
    assert_eq!(
        db.for_user(other.id).time_zone().await.unwrap(),
        UserZone::UTC,
        "another user's zone is their own"
    );
}

#[tokio::test]
async fn interactions_are_entered_and_read_on_the_users_clock() {
    let db = fresh_db().await;
    let me = TestUser::create(&db, "tokyo@example.com").await;
    let ada = me.contact("Ada").email("ada@example.com").insert().await;
    let scope = db.for_user(me.id);
    let tokyo = UserZone::parse("Asia/Tokyo").unwrap();
    scope.choose_time_zone(tokyo).await.unwrap();
    let zone = scope.time_zone().await.unwrap();
    let tuesday = a_tuesday_ahead();

    // 08:30 in Tokyo is 23:30 UTC the day before; an all-day visit on the Tuesday starts
    // at Tokyo's midnight (15:00 UTC on Monday).
    let early = scope
        .interactions()
        .create(
            LoggedOn::Contact(ada),
            &form("Breakfast", tuesday, "08:30", "60")
                .parse(&zone)
                .unwrap(),
        )
        .await
        .unwrap();
    let all_day = scope
        .interactions()
        .create(
            LoggedOn::Contact(ada),
            &form("Site visit", tuesday, "", "").parse(&zone).unwrap(),
        )
        .await
        .unwrap();
    let monday = tuesday - Days::new(1);
    assert_eq!(
        early.draft.occurred_at.unwrap().to_rfc3339(),
        format!("{monday}T23:30:00+00:00")
    );
    assert_eq!(
        all_day.draft.occurred_at.unwrap().to_rfc3339(),
        format!("{monday}T15:00:00+00:00")
    );
    let event_dates: Vec<(String, NaiveDate)> = sqlx::query_as(
        "select title, event_date from calendar_events where user_id = $1 order by title",
    )
    .bind(me.id.0)
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert_eq!(
        event_dates,
        vec![
            ("Breakfast".into(), tuesday),
            ("Site visit".into(), tuesday)
        ],
        "the events' days are Tokyo's days"
    );

    // The contact page's rows and edit form read Tokyo's clock.
    let row = scope
        .interactions()
        .for_contact(ada, false)
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.id == early.id)
        .unwrap()
        .row(zone);
    let local = row.local.clone().unwrap();
    assert_eq!(local.zone, "JST");
    let edit = row.draft.to_form(Some(local.at));
    assert_eq!(
        (edit.date.as_str(), edit.time.as_str()),
        (tuesday.to_string().as_str(), "08:30")
    );

    // /calendar's Tuesday holds both, on Tokyo's clock; Monday holds neither.
    let items = scope
        .calendar()
        .between(zone, tuesday, tuesday + Days::new(1))
        .await
        .unwrap();
    let shown: Vec<(&str, &LocalTime, bool)> = items
        .iter()
        .map(|i| (i.title.as_str(), &i.starts_local, i.all_day))
        .collect();
    assert_eq!(shown.len(), 2, "{shown:?}");
    assert!(
        shown.iter().all(|(_, local, _)| local.at.date() == tuesday),
        "{shown:?}"
    );
    let breakfast = items.iter().find(|i| i.title == "Breakfast").unwrap();
    assert_eq!(
        breakfast.starts_local.at.format("%H:%M").to_string(),
        "08:30"
    );
    assert_eq!(
        breakfast
            .ends_local
            .as_ref()
            .map(|e| e.at.format("%H:%M").to_string()),
        Some("09:30".into())
    );
    assert!(
        scope
            .calendar()
            .between(zone, monday, tuesday)
            .await
            .unwrap()
            .is_empty()
    );

    // The feed: UTC instants, the user's zone named, the all-day event on Tokyo's date.
    let ics = scope.calendar().feed_ics().await.unwrap();
    assert!(ics.contains("X-WR-TIMEZONE:Asia/Tokyo"), "{ics}");
    let compact = |d: NaiveDate| d.format("%Y%m%d").to_string();
    assert!(
        ics.contains(&format!("DTSTART:{}T233000Z", compact(monday))),
        "{ics}"
    );
    assert!(
        ics.contains(&format!("DTSTART;VALUE=DATE:{}", compact(tuesday))),
        "{ics}"
    );
}

#[test]
fn a_time_the_clocks_skip_is_refused_with_the_field_named() {
    let paris = UserZone::parse("Europe/Paris").unwrap();
    // The last Sunday of March 2027: 02:00 -> 03:00 in Paris.
    let day = NaiveDate::from_ymd_opt(2027, 3, 28).unwrap();
    let error = form("Too early", day, "02:30", "30")
        .parse(&paris)
        .unwrap_err();
    assert_eq!(error.field, "time");
    assert!(error.message.contains("Europe/Paris"), "{error}");
    assert!(form("Later", day, "03:30", "30").parse(&paris).is_ok());
}
