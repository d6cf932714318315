//! `/calendar`: logged interactions and meetings synced from the user's calendars, as an
//! agenda (the next four weeks from a day, grouped by day) or a week (Monday to Sunday,
//! one column a day). `?view=week&date=2026-12-07` picks the view and the day; every
//! item links to its contact (or company). Days and times are on the user's clock (their
//! time zone, read on the server).

use api::interactions::{CalendarItem, EventStatus};
use chrono::{Datelike, Days, NaiveDate};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::app_error::AppError;
use crate::errors::LoadError;

/// How many days the agenda shows.
const AGENDA_DAYS: u64 = 28;

/// Which view, from which day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum View {
    Agenda,
    Week,
}

fn parse_view(view: Option<String>) -> View {
    match view.as_deref() {
        Some("week") => View::Week,
        _ => View::Agenda,
    }
}

/// The first and last+1 day the view shows.
fn range(view: View, day: NaiveDate) -> (NaiveDate, NaiveDate) {
    match view {
        View::Agenda => (day, day + Days::new(AGENDA_DAYS)),
        View::Week => {
            let monday = day - Days::new(u64::from(day.weekday().num_days_from_monday()));
            (monday, monday + Days::new(7))
        }
    }
}

/// What one view shows: its day, the user's today, and the items.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CalendarDays {
    day: NaiveDate,
    today: NaiveDate,
    items: Vec<CalendarItem>,
}

/// The items of the view (`week`, else the agenda) from `date` (`YYYY-MM-DD`; none: the
/// user's today), on the user's days.
#[server]
pub async fn load_calendar(week: bool, date: Option<String>) -> Result<CalendarDays, AppError> {
    use domain::DomainError;

    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let zone = ctx.scope().time_zone().await?;
        let today = zone.date(chrono::Utc::now());
        let day = match date.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map_err(|_| DomainError::invalid("date", "must be a date as YYYY-MM-DD"))?,
            None => today,
        };
        let view = if week { View::Week } else { View::Agenda };
        let (from, to) = range(view, day);
        let items = ctx.scope().calendar().between(zone, from, to).await?;
        Ok(CalendarDays { day, today, items })
    })
    .await
}

#[component]
pub fn CalendarPage() -> impl IntoView {
    let query = use_query_map();
    let view_of = move || parse_view(query.with(|q| q.get("view")));
    let date_of = move || query.with(|q| q.get("date"));
    let items = Resource::new(
        move || (view_of(), date_of()),
        |(view, date)| load_calendar(view == View::Week, date),
    );
    view! {
        <Title text="Calendar"/>
        <section class="page calendar-page">
            <header class="page-header">
                <h1>"Calendar"</h1>
            </header>
            <Transition fallback=|| view! { <p class="muted">"Loading calendar…"</p> }>
                {move || Suspend::new(async move {
                    let view = view_of();
                    match items.await {
                        Ok(CalendarDays { day, today, items }) => view! { <Controls view day today/> <Shown view day items/> }.into_any(),
                        Err(error) => view! { <LoadError error/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

fn href(view: View, day: NaiveDate) -> String {
    let name = match view {
        View::Agenda => "agenda",
        View::Week => "week",
    };
    format!("/calendar?view={name}&date={day}")
}

#[component]
fn Controls(view: View, day: NaiveDate, today: NaiveDate) -> impl IntoView {
    let step = match view {
        View::Agenda => Days::new(AGENDA_DAYS),
        View::Week => Days::new(7),
    };
    let tab = move |this: View, label: &'static str| {
        let current = (this == view).then_some("page");
        view! { <a class="button" class:primary={this == view} aria-current=current href=href(this, day)>{label}</a> }
    };
    view! {
        <nav class="calendar-controls" aria-label="Calendar view">
            {tab(View::Agenda, "Agenda")}
            {tab(View::Week, "Week")}
            <a class="button" href=href(view, day - step)>"← Earlier"</a>
            <a class="button" href=href(view, today)>"Today"</a>
            <a class="button" href=href(view, day + step)>"Later →"</a>
        </nav>
    }
}

#[component]
fn Shown(view: View, day: NaiveDate, items: Vec<CalendarItem>) -> impl IntoView {
    let (from, to) = range(view, day);
    let days: Vec<NaiveDate> = from.iter_days().take_while(|d| *d < to).collect();
    let on = |d: NaiveDate| -> Vec<CalendarItem> {
        items
            .iter()
            .filter(|i| i.starts_local.at.date() == d)
            .cloned()
            .collect()
    };
    match view {
        View::Agenda => {
            let filled: Vec<(NaiveDate, Vec<CalendarItem>)> = days
                .into_iter()
                .map(|d| (d, on(d)))
                .filter(|(_, items)| !items.is_empty())
                .collect();
            if filled.is_empty() {
                return view! {
                    <p class="muted" data-testid="calendar-empty">
                        "Nothing on the calendar from " {from.format("%e %b").to_string()} " to "
                        {(to - Days::new(1)).format("%e %b %Y").to_string()}
                        ". Log a meeting or call on a contact to see it here."
                    </p>
                }
                .into_any();
            }
            view! {
                <ol class="agenda" data-testid="agenda">
                    {filled.into_iter().map(|(d, items)| view! {
                        <li class="agenda-day">
                            <h2>{d.format("%A %e %B %Y").to_string()}</h2>
                            <ul class="calendar-items">
                                {items.into_iter().map(|item| view! { <Item item/> }).collect_view()}
                            </ul>
                        </li>
                    }).collect_view()}
                </ol>
            }
            .into_any()
        }
        View::Week => view! {
            <div class="week" data-testid="week">
                {days.into_iter().map(|d| {
                    let items = on(d);
                    view! {
                        <section class="week-day" aria-label=d.format("%A %e %B").to_string()>
                            <h2>{d.format("%a %e %b").to_string()}</h2>
                            <ul class="calendar-items">
                                {items.into_iter().map(|item| view! { <Item item/> }).collect_view()}
                            </ul>
                        </section>
                    }
                }).collect_view()}
            </div>
        }
        .into_any(),
    }
}

#[component]
fn Item(item: CalendarItem) -> impl IntoView {
    let time = if item.all_day {
        "All day".to_owned()
    } else {
        let start = &item.starts_local;
        match &item.ends_local {
            Some(end) => format!(
                "{}–{} {}",
                start.at.format("%H:%M"),
                end.at.format("%H:%M"),
                end.zone
            ),
            None => format!("{} {}", start.at.format("%H:%M"), start.zone),
        }
    };
    let link = match (&item.contact, &item.company) {
        (Some((id, name)), _) => {
            view! { <a href=format!("/contacts/{id}")>{name.clone()}</a> }.into_any()
        }
        (None, Some((id, name))) => {
            view! { <a href=format!("/companies/{id}")>{name.clone()}</a> }.into_any()
        }
        (None, None) => ().into_any(),
    };
    let cancelled = item.status == EventStatus::Cancelled;
    view! {
        <li class="calendar-item" class:cancelled=cancelled data-status=item.status.as_str() data-testid="calendar-item">
            <time datetime=item.starts_at.to_rfc3339()>{time}</time>
            " "
            <strong class="calendar-title">{item.title.clone()}</strong>
            " "
            <span class=format!("badge status-{}", item.status)>{item.status.as_str()}</span>
            <p class="muted">
                {item.kind_label.clone()}
                {item.location.clone().map(|l| format!(" · {l}"))}
                " · "
                {link}
            </p>
        </li>
    }
}
