//! The contact page's activity timeline: every activity linked to the contact, newest
//! first, with its processing state kept current over the live feed (`activity.state`
//! events re-read the shown window, so a badge moves raw -> processing -> completed in
//! every open tab, and `activity.summarised` events bring in AI summaries), Retry for failed ones, a channel filter, "Load more", and a drop zone
//! for files.

use api::timeline::{TimelineItem, TimelineWindow};
use api::{ActivityState, Channel, Direction};
use leptos::prelude::*;
use uuid::Uuid;

use super::file_upload::FileDrop;
use crate::app_error::AppError;
use crate::live::{EventKind, listen_live};
use crate::pages::search::SearchForm;

/// Rows shown first and added by each "Load more".
const PAGE: i64 = 25;

/// The newest `limit` activities of `contact` (optionally one `channel`).
#[server]
pub async fn contact_timeline(
    contact: Uuid,
    #[server(default)] channel: String,
    limit: i64,
) -> Result<TimelineWindow, AppError> {
    use crate::ssr::{RequestContext, reported};
    use domain::timeline::TimelineQuery;
    reported(async move {
        let ctx = RequestContext::current()?;
        let query = TimelineQuery::new(Some(&channel), limit)?;
        let page = ctx.scope().timeline().for_contact(contact, &query).await?;
        Ok(page.into())
    })
    .await
}

/// Queues a failed or dead activity again (attempts reset; see `domain::processing::retry`).
#[server]
pub async fn retry_activity(activity: Uuid) -> Result<(), AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        Ok(ctx.scope().processing().retry(activity).await?)
    })
    .await
}

/// The timeline's controls and data. The contact page creates it above its Suspense:
/// a server render walks a Suspense's children twice, so a resource created in there
/// loaded twice per page, and only once the contact itself had loaded.
#[derive(Clone, Copy)]
pub struct ActivityFeed {
    channel: RwSignal<String>,
    limit: RwSignal<i64>,
    changes: RwSignal<u64>,
    retry: ServerAction<RetryActivity>,
    window: Resource<Result<TimelineWindow, AppError>>,
}

impl ActivityFeed {
    pub fn new(contact: Memo<Option<Uuid>>) -> Self {
        let channel = RwSignal::new(String::new());
        let limit = RwSignal::new(PAGE);
        let changes = RwSignal::new(0_u64);
        listen_live(
            &[EventKind::ActivityState, EventKind::ActivitySummarised],
            move |_| {
                changes.update(|n| *n += 1);
            },
        );
        let retry = ServerAction::<RetryActivity>::new();
        let window = Resource::new(
            move || {
                (
                    contact.get(),
                    channel.get(),
                    limit.get(),
                    changes.get(),
                    retry.version().get(),
                )
            },
            |(contact, channel, limit, _, _)| async move {
                match contact {
                    Some(contact) => contact_timeline(contact, channel, limit).await,
                    None => Err(AppError::not_found("contact")),
                }
            },
        );
        Self {
            channel,
            limit,
            changes,
            retry,
            window,
        }
    }

    /// Reads the timeline again (something on this page changed it).
    pub fn reload(self) {
        self.changes.update(|n| *n += 1);
    }
}

#[component]
pub fn ActivityTimeline(contact: Uuid, feed: ActivityFeed) -> impl IntoView {
    let ActivityFeed {
        channel,
        limit,
        changes,
        retry,
        window,
    } = feed;
    let retry_error = move || {
        retry
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| view! { <p class="form-error" role="alert">{e.user_message()}</p> })
    };
    view! {
        <section class="card activity-timeline" data-testid="activity-timeline">
            <header class="timeline-header">
                <h2>"Activity"</h2>
                <label class="channel-filter">
                    <span class="visually-hidden">"Channel"</span>
                    <select
                        data-testid="channel-filter"
                        on:change=move |ev| {
                            channel.set(event_target_value(&ev));
                            limit.set(PAGE);
                        }
                    >
                        <option value="">"All channels"</option>
                        {Channel::all()
                            .iter()
                            .map(|c| view! { <option value=c.as_str()>{c.label()}</option> })
                            .collect_view()}
                    </select>
                </label>
                <SearchForm/>
            </header>
            <FileDrop contact=Signal::derive(move || Some(contact)) on_uploaded=move || changes.update(|n| *n += 1)/>
            {retry_error}
            <Transition fallback=|| view! { <p class="muted">"Loading activity…"</p> }>
                {move || Suspend::new(async move {
                    match window.await {
                        Ok(window) => view! { <TimelineRows window retry limit/> }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.user_message()}</p> }
                            .into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn TimelineRows(
    window: TimelineWindow,
    retry: ServerAction<RetryActivity>,
    limit: RwSignal<i64>,
) -> impl IntoView {
    if window.items.is_empty() {
        return view! {
            <p class="muted empty-timeline">
                "Nothing yet from this contact on this channel. Emails, messages and calls appear here "
                "as they arrive; drop files above to add them."
            </p>
        }
        .into_any();
    }
    let more = window.more.then(|| {
        view! {
            <button type="button" class="secondary load-more" on:click=move |_| limit.update(|l| *l += PAGE)>
                "Load more"
            </button>
        }
    });
    view! {
        <ol class="timeline activity-list">
            {window.items.into_iter().map(|item| view! { <TimelineRow item retry/> }).collect_view()}
        </ol>
        {more}
    }
    .into_any()
}

#[component]
fn TimelineRow(item: TimelineItem, retry: ServerAction<RetryActivity>) -> impl IntoView {
    let id = item.id;
    let direction = match item.direction {
        Some(Direction::Inbound) => "↙ received",
        Some(Direction::Outbound) => "↗ sent",
        None => "",
    };
    let indicator =
        matches!(item.state, ActivityState::Processing | ActivityState::Raw).then(|| {
            view! { <span class="spinner" aria-hidden="true"></span> }
        });
    let failure = item.error.clone().map(|error| {
        view! {
            <p class="activity-error" role="status">{error}</p>
            <button
                type="button"
                class="secondary retry"
                disabled=move || retry.pending().get()
                on:click=move |_| {
                    retry.dispatch(RetryActivity { activity: id });
                }
            >
                "Retry"
            </button>
        }
    });
    let download = item.download.clone().map(|href| {
        view! { <a class="download" href=href download="">"Download"</a> }
    });
    view! {
        <li class="timeline-item activity" id=format!("activity-{id}") data-activity-id=id.to_string() data-state=item.state.as_str()>
            <span class=format!("channel channel-{}", item.channel) title=item.channel.as_str()>
                <span aria-hidden="true">{channel_icon(item.channel)}</span>
                " "
                {item.channel.as_str()}
            </span>
            <div class="timeline-body">
                <p class="headline">
                    {crate::pages::timeline::headline_link(item.channel, id, item.headline.clone())}
                </p>
                {item.snippet.clone().map(|s| view! { <p class="snippet muted">{s}</p> })}
                {item.summary.clone().map(|s| view! { <p class="summary" data-testid="activity-summary" title="AI summary">{s}</p> })}
                <p class="muted">
                    {direction}
                    {(!direction.is_empty()).then_some(" · ")}
                    <time datetime=item.occurred_at.to_rfc3339()>
                        {item.occurred_at.format("%e %b %Y, %H:%M UTC").to_string()}
                    </time>
                </p>
                {failure}
                {download}
                {(item.channel == Channel::Call).then(|| view! { <crate::components::call_recording::CallRecordings activity=id/> })}
            </div>
            <span class=format!("badge state-{}", item.state) data-testid="state-badge">
                {indicator}
                {item.state.as_str()}
            </span>
        </li>
    }
}

fn channel_icon(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "✉",
        Channel::Whatsapp => "💬",
        Channel::Sms => "📱",
        Channel::Call => "📞",
        Channel::Meeting => "📅",
        Channel::Messenger => "💭",
        Channel::Instagram => "📷",
        Channel::File => "📎",
    }
}
