//! The Interactions panel of the contact and company pages: log a visit, call or
//! meeting (see `domain::interactions`), edit, archive (its calendar event is cancelled),
//! restore and delete it. Each row says whether it is on the calendar, and why not.

use api::interactions::{
    EventStatus, InteractionForm, InteractionKind, InteractionRow, Medium, Sentiment,
};
use api::{ClosedSet, Direction};
use leptos::prelude::*;
use uuid::Uuid;

use crate::app_error::AppError;
use crate::components::activity_timeline::ActivityFeed;

/// What the interactions are logged on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoggedOn {
    Contact,
    Company,
}

#[server]
pub async fn load_interactions(
    contact_id: Option<Uuid>,
    company_id: Option<Uuid>,
) -> Result<Vec<InteractionRow>, AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let scope = ctx.scope().interactions();
        let rows = match (contact_id, company_id) {
            (Some(contact), _) => scope.for_contact(contact, true).await?,
            (None, Some(company)) => scope.for_company(company, true).await?,
            (None, None) => return Err(AppError::not_found("contact")),
        };
        let zone = ctx.scope().time_zone().await?;
        Ok(rows.into_iter().map(|row| row.row(zone)).collect())
    })
    .await
}

#[server]
pub async fn log_interaction(
    #[server(default)] contact_id: Option<Uuid>,
    #[server(default)] company_id: Option<Uuid>,
    form: InteractionForm,
) -> Result<(), AppError> {
    use domain::DomainError;
    use domain::interactions::LoggedOn;

    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let zone = ctx.scope().time_zone().await?;
        let draft = form.parse(&zone).map_err(DomainError::from)?;
        let on = match (contact_id, company_id) {
            (Some(contact), _) => LoggedOn::Contact(contact),
            (None, Some(company)) => LoggedOn::Company(company),
            (None, None) => {
                return Err(
                    DomainError::invalid("contact_id", "a contact or a company is needed").into(),
                );
            }
        };
        ctx.scope().interactions().create(on, &draft).await?;
        Ok(())
    })
    .await
}

#[server]
pub async fn edit_interaction(interaction_id: Uuid, form: InteractionForm) -> Result<(), AppError> {
    use domain::DomainError;

    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let zone = ctx.scope().time_zone().await?;
        let draft = form.parse(&zone).map_err(DomainError::from)?;
        ctx.scope()
            .interactions()
            .update(interaction_id, &draft)
            .await?;
        Ok(())
    })
    .await
}

#[server]
pub async fn archive_interaction(interaction_id: Uuid, archived: bool) -> Result<(), AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        ctx.scope()
            .interactions()
            .set_archived(interaction_id, archived)
            .await?;
        Ok(())
    })
    .await
}

#[server]
pub async fn delete_interaction(interaction_id: Uuid) -> Result<(), AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        Ok(ctx.scope().interactions().delete(interaction_id).await?)
    })
    .await
}

#[derive(Clone, Copy)]
struct Actions {
    log: ServerAction<LogInteraction>,
    edit: ServerAction<EditInteraction>,
    archive: ServerAction<ArchiveInteraction>,
    delete: ServerAction<DeleteInteraction>,
    editing: RwSignal<Option<Uuid>>,
}

/// The panel's actions and rows, created above the page's Suspense (see
/// `ActivityFeed`). With a `feed`, every change re-reads that timeline too.
#[derive(Clone, Copy)]
pub struct InteractionsData {
    on: LoggedOn,
    actions: Actions,
    rows: Resource<Result<Vec<InteractionRow>, AppError>>,
}

impl InteractionsData {
    pub fn new(on: LoggedOn, id: Memo<Option<Uuid>>, feed: Option<ActivityFeed>) -> Self {
        let actions = Actions {
            log: ServerAction::new(),
            edit: ServerAction::new(),
            archive: ServerAction::new(),
            delete: ServerAction::new(),
            editing: RwSignal::new(None),
        };
        let versions = move || {
            (
                actions.log.version().get(),
                actions.edit.version().get(),
                actions.archive.version().get(),
                actions.delete.version().get(),
            )
        };
        if let Some(feed) = feed {
            Effect::new(move |previous: Option<(usize, usize, usize, usize)>| {
                let now = versions();
                if previous.is_some_and(|p| p != now) {
                    feed.reload();
                }
                now
            });
        }
        let rows = Resource::new(
            move || (id.get(), versions()),
            move |(id, _)| async move {
                match (on, id) {
                    (LoggedOn::Contact, Some(id)) => load_interactions(Some(id), None).await,
                    (LoggedOn::Company, Some(id)) => load_interactions(None, Some(id)).await,
                    (LoggedOn::Contact, None) => Err(AppError::not_found("contact")),
                    (LoggedOn::Company, None) => Err(AppError::not_found("company")),
                }
            },
        );
        Self { on, actions, rows }
    }
}

#[component]
pub fn InteractionsPanel(id: Uuid, data: InteractionsData) -> impl IntoView {
    let InteractionsData { on, actions, rows } = data;
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if matches!(actions.log.value().get(), Some(Ok(())))
            && let Some(form) = form.get()
        {
            form.reset();
        }
    });
    Effect::new(move |_| {
        if matches!(actions.edit.value().get(), Some(Ok(()))) {
            actions.editing.set(None);
        }
    });
    let failed = move || {
        [
            actions.log.value().get(),
            actions.edit.value().get(),
            actions.archive.value().get(),
            actions.delete.value().get(),
        ]
        .into_iter()
        .flatten()
        .find_map(Result::err)
        .map(|e| view! { <p class="form-error" role="alert" data-testid="interaction-error">{e.user_message()}</p> })
    };
    let (target_name, target) = match on {
        LoggedOn::Contact => ("contact_id", id),
        LoggedOn::Company => ("company_id", id),
    };
    view! {
        <section class="card interactions-panel" aria-labelledby="interactions-heading" data-testid="interactions">
            <h2 id="interactions-heading">"Interactions"</h2>
            <details class="log-interaction">
                <summary class="button">"Log an interaction"</summary>
                <ActionForm action=actions.log node_ref=form attr:class="interaction-form" attr:data-testid="log-interaction-form">
                    <input type="hidden" name=target_name value=target.to_string()/>
                    <InteractionFields prefix="new" initial=InteractionForm { kind: "meeting".into(), ..Default::default() }/>
                    <button class="button primary" type="submit">"Log it"</button>
                </ActionForm>
            </details>
            {failed}
            <Transition fallback=|| view! { <p class="muted">"Loading interactions…"</p> }>
                {move || Suspend::new(async move {
                    match rows.await {
                        Ok(rows) if rows.is_empty() => view! { <p class="muted">"No interactions logged yet."</p> }.into_any(),
                        Ok(rows) => view! {
                            <ol class="interactions">
                                {rows.into_iter().map(|row| view! { <InteractionItem row actions/> }).collect_view()}
                            </ol>
                        }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.user_message()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// Whether the row is on the calendar, in words.
fn calendar_note(row: &InteractionRow) -> String {
    if let Some(e) = &row.event
        && let Some(error) = &e.write_back_error
    {
        let retry = e
            .next_retry_at
            .map(|at| format!("; trying again at {}", at.format("%H:%M UTC")))
            .unwrap_or_else(|| "; it is tried again on the next change".to_owned());
        return format!("Not yet on your connected calendar: {error}{retry}");
    }
    match (&row.event, row.archived) {
        (Some(e), _) if e.status == EventStatus::Cancelled => {
            "Cancelled on the calendar".to_owned()
        }
        (Some(e), _) => format!("On the calendar ({})", e.status),
        (None, true) => "Archived: not on the calendar".to_owned(),
        (None, false) => {
            let why = if row.draft.occurred_at.is_none() {
                "it has no date"
            } else if row.draft.subject.is_none() {
                "it has no subject"
            } else {
                "it is older than 30 days"
            };
            format!("Not on the calendar: {why}")
        }
    }
}

#[component]
fn InteractionItem(row: InteractionRow, actions: Actions) -> impl IntoView {
    let id = row.id;
    let draft = row.draft.clone();
    let title = draft
        .subject
        .clone()
        .unwrap_or_else(|| draft.kind.label().to_owned());
    let when = draft.occurred_at.zip(row.local.clone()).map(|(at, local)| {
        let text = if draft.duration_minutes.is_none() {
            local.at.format("%a %e %b %Y (all day)").to_string()
        } else {
            format!("{} {}", local.at.format("%a %e %b %Y, %H:%M"), local.zone)
        };
        view! { <time datetime=at.to_rfc3339()>{text}</time> }
    });
    let details = [
        Some(draft.kind.label().to_owned()),
        Some(draft.medium.label().to_owned()),
        Some(match draft.direction {
            Direction::Inbound => "they reached out".to_owned(),
            Direction::Outbound => "you reached out".to_owned(),
        }),
        draft.duration_minutes.map(|m| format!("{m} min")),
        draft.location.clone(),
        draft.sentiment.map(|s| s.as_str().to_owned()),
        draft.importance.map(|i| format!("importance {}", i.get())),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    let note = calendar_note(&row);
    let archived = row.archived;
    let form = draft.to_form(row.local.as_ref().map(|l| l.at));
    let editing = actions.editing;
    let body = move || {
        if editing.get() == Some(id) {
            let initial = form.clone();
            view! {
                <ActionForm action=actions.edit attr:class="interaction-form">
                    <input type="hidden" name="interaction_id" value=id.to_string()/>
                    <InteractionFields prefix=id.to_string() initial/>
                    <button class="button primary" type="submit">"Save"</button>
                    <button class="button" type="button" on:click=move |_| editing.set(None)>"Cancel"</button>
                </ActionForm>
            }
            .into_any()
        } else {
            ().into_any()
        }
    };
    view! {
        <li class="interaction" class:archived=archived data-interaction-id=id.to_string()>
            <header class="interaction-head">
                <strong>{title}</strong>
                " "
                {when}
                {archived.then(|| view! { <span class="badge">"Archived"</span> })}
            </header>
            <p class="muted">{details}</p>
            {draft.outcome.clone().map(|o| view! { <p>"Outcome: " {o}</p> })}
            {draft.description.clone().map(|d| view! { <p class="interaction-description">{d}</p> })}
            {draft.private_notes.clone().map(|n| view! { <p class="private-notes muted" title="Only you see these">"Private: " {n}</p> })}
            <p class="calendar-note muted" data-testid="calendar-note">{note}</p>
            {body}
            <div class="note-actions">
                <button class="button" type="button" on:click=move |_| editing.set(Some(id))>"Edit"</button>
                <ActionForm action=actions.archive attr:class="inline-form">
                    <input type="hidden" name="interaction_id" value=id.to_string()/>
                    <input type="hidden" name="archived" value=(!archived).to_string()/>
                    <button class="button" type="submit">{if archived { "Restore" } else { "Archive" }}</button>
                </ActionForm>
                <ActionForm action=actions.delete attr:class="inline-form">
                    <input type="hidden" name="interaction_id" value=id.to_string()/>
                    <button class="button" type="submit" on:click=confirm_delete>"Delete"</button>
                </ActionForm>
            </div>
        </li>
    }
}

/// A `<select>` over a closed set, `blank` first when given.
fn choices<T: ClosedSet>(
    selected: &str,
    blank: Option<&'static str>,
    label: fn(T) -> String,
) -> impl IntoView + use<T> {
    let selected = selected.to_owned();
    let blank = blank.map(|b| {
        view! { <option value="" selected={selected.is_empty()}>{b}</option> }
    });
    let options = T::ALL
        .iter()
        .map(|v| {
            let name = v.as_str();
            view! { <option value=name selected={name == selected}>{label(*v)}</option> }
        })
        .collect_view();
    (blank, options)
}

/// The interaction form's fields (`form[kind]`, `form[subject]`, ...), filled from
/// `initial`; `prefix` keeps the ids of several forms on one page apart.
#[component]
fn InteractionFields(#[prop(into)] prefix: String, initial: InteractionForm) -> impl IntoView {
    let id = move |field: &str| format!("{prefix}-{field}");
    let f = initial;
    view! {
        <div class="form-grid">
            <label for=id("kind")>"Type"</label>
            <select id=id("kind") name="form[kind]">
                {choices::<InteractionKind>(&f.kind, None, |k| k.label().to_owned())}
            </select>
            <label for=id("subject")>"Subject"</label>
            <input id=id("subject") name="form[subject]" maxlength="300" value=f.subject.clone()/>
            <label for=id("date")>"Date"</label>
            <input id=id("date") type="date" name="form[date]" value=f.date.clone()/>
            <label for=id("time")>"Time"</label>
            <input id=id("time") type="time" name="form[time]" value=f.time.clone()/>
            <label for=id("duration")>"Duration (minutes; blank: all day)"</label>
            <input id=id("duration") type="number" min="1" max="10080" name="form[duration_minutes]" value=f.duration_minutes.clone()/>
            <label for=id("location")>"Location"</label>
            <input id=id("location") name="form[location]" maxlength="500" value=f.location.clone()/>
            <label for=id("direction")>"Who reached out"</label>
            <select id=id("direction") name="form[direction]">
                {choices::<Direction>(&f.direction, None, |d| match d {
                    Direction::Outbound => "You (outbound)".to_owned(),
                    Direction::Inbound => "They did (inbound)".to_owned(),
                })}
            </select>
            <label for=id("medium")>"Medium"</label>
            <select id=id("medium") name="form[medium]">
                {choices::<Medium>(&f.medium, Some("From the type"), |m| m.label().to_owned())}
            </select>
            <label for=id("sentiment")>"Sentiment"</label>
            <select id=id("sentiment") name="form[sentiment]">
                {choices::<Sentiment>(&f.sentiment, Some("—"), |s| s.as_str().to_owned())}
            </select>
            <label for=id("importance")>"Importance (1-5)"</label>
            <input id=id("importance") type="number" min="1" max="5" name="form[importance]" value=f.importance.clone()/>
            <label for=id("outcome")>"Outcome"</label>
            <input id=id("outcome") name="form[outcome]" maxlength="500" value=f.outcome.clone()/>
            <label for=id("description")>"Description"</label>
            <textarea id=id("description") name="form[description]" rows="3" maxlength="20000">{f.description.clone()}</textarea>
            <label for=id("private")>"Private notes"</label>
            <textarea id=id("private") name="form[private_notes]" rows="2" maxlength="20000">{f.private_notes.clone()}</textarea>
        </div>
    }
}

/// Asks before a delete; cancelling the dialog cancels the form's submission.
fn confirm_delete(ev: leptos::ev::MouseEvent) {
    let confirmed = window()
        .confirm_with_message(
            "Delete this interaction and its calendar event? This cannot be undone.",
        )
        .unwrap_or(false);
    if !confirmed {
        ev.prevent_default();
    }
}
