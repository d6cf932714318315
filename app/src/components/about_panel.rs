//! The contact page's About section: every enriched field with the value shown and its
//! alternatives (each with its source and date; "Use this" picks one, which counts as
//! the user's edit), the lookups made with their outcome (a spent budget says so), the
//! contact's recent X posts, and Refresh, which queues a fresh lookup with every
//! provider and shows the job's progress live (`enrichment.progress`).

use api::enrichment::{AboutField, AboutView};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use uuid::Uuid;

use crate::app_error::AppError;
use crate::live::{Event, EventKind, listen_live};

#[server]
pub async fn load_about(contact_id: Uuid) -> Result<AboutView, AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        Ok(ctx.scope().contacts().about(contact_id).await?)
    })
    .await
}

/// Queues a fresh enrichment of the contact (every provider, even fresh answers).
#[server]
pub async fn refresh_about(contact_id: Uuid) -> Result<bool, AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        Ok(ctx
            .scope()
            .contacts()
            .refresh_enrichment(contact_id)
            .await?)
    })
    .await
}

/// Queues a fresh enrichment of the checked contacts on the contacts list (`ids`, the
/// list's checkboxes); returns how many.
#[server]
pub async fn refresh_about_many(#[server(default)] ids: Vec<Uuid>) -> Result<u64, AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        Ok(ctx.scope().contacts().refresh_enrichment_many(&ids).await?)
    })
    .await
}

/// The contacts list's "Refresh details" for the checked contacts: a second submit
/// button of the list's bulk form, posting it to [`refresh_about_many`].
#[component]
pub fn BulkRefreshAbout() -> impl IntoView {
    let action = ServerAction::<RefreshAboutMany>::new();
    let on_click = move |ev: leptos::ev::MouseEvent| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            ev.prevent_default();
            let form = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlButtonElement>().ok())
                .and_then(|b| b.form());
            let Some(data) = form.and_then(|f| web_sys::FormData::new_with_form(&f).ok()) else {
                return;
            };
            match <RefreshAboutMany as FromFormData>::from_form_data(&data) {
                Ok(input) => {
                    action.dispatch(input);
                }
                Err(e) => leptos::logging::error!("bulk refresh form: {e}"),
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    let result = move || {
        action.value().get().map(|result| match result {
            Ok(n) => view! { <p class="form-ok" role="status">{format!("Looking up {n} contacts again.")}</p> }.into_any(),
            Err(e) => view! { <p class="form-error" role="alert">{e.user_message()}</p> }.into_any(),
        })
    };
    let url = <RefreshAboutMany as leptos::server_fn::ServerFn>::url();
    view! {
        <button
            class="button"
            type="submit"
            formaction=url
            formnovalidate=true
            on:click=on_click
            disabled=move || action.pending().get()
        >
            "Refresh details"
        </button>
        {result}
    }
}

/// The user picks `source`'s value of `field`.
#[server]
pub async fn pick_about(contact_id: Uuid, field: String, source: String) -> Result<(), AppError> {
    use api::enrichment::EnrichedField;
    use domain::DomainError;

    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let field =
            EnrichedField::parse(&field).map_err(|e| DomainError::not_one_of("field", &e))?;
        Ok(ctx
            .scope()
            .contacts()
            .pick_enriched(contact_id, field, &source)
            .await?)
    })
    .await
}

/// The section's data and actions, created by the contact page above its Suspense.
#[derive(Clone, Copy)]
pub struct AboutData {
    about: Resource<Result<Option<AboutView>, AppError>>,
    refresh: ServerAction<RefreshAbout>,
    pick: ServerAction<PickAbout>,
    /// The running job's lookups done of total, from `enrichment.progress`.
    progress: RwSignal<Option<(u32, u32)>>,
}

impl AboutData {
    pub fn new(contact: Memo<Option<Uuid>>) -> Self {
        let refresh = ServerAction::<RefreshAbout>::new();
        let pick = ServerAction::<PickAbout>::new();
        let progress = RwSignal::new(None);
        // Bumped when the stream opens and when this contact's job finishes a lookup.
        let changes = RwSignal::new(0_u64);
        listen_live(&[EventKind::EnrichmentProgress], move |event| match event {
            Some(Event::EnrichmentProgress(p)) => {
                if contact.get_untracked() == Some(p.contact_id) {
                    progress.set((!p.finished).then_some((p.done, p.total)));
                    changes.update(|n| *n += 1);
                }
            }
            _ => changes.update(|n| *n += 1),
        });
        let about = Resource::new(
            move || {
                (
                    contact.get(),
                    changes.get(),
                    refresh.version().get(),
                    pick.version().get(),
                )
            },
            |(contact, _, _, _)| async move {
                match contact {
                    Some(contact) => load_about(contact).await.map(Some),
                    None => Ok(None),
                }
            },
        );
        Self {
            about,
            refresh,
            pick,
            progress,
        }
    }
}

fn day(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(String::new, |at| at.format("%e %b %Y").to_string())
}

#[component]
pub fn AboutPanel(data: AboutData) -> impl IntoView {
    let AboutData {
        about,
        refresh,
        pick,
        progress,
    } = data;
    let failed = move || {
        [
            refresh.value().get().and_then(Result::err),
            pick.value().get().and_then(Result::err),
        ]
        .into_iter()
        .flatten()
        .next()
        .map(|e| view! { <p class="form-error" role="alert">{e.user_message()}</p> })
    };
    view! {
        <section class="card about" data-testid="about">
            <h2>"About"</h2>
            {failed}
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match about.await {
                        Ok(Some(view)) => view! { <AboutBody view refresh pick progress/> }.into_any(),
                        Ok(None) => ().into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.user_message()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn AboutBody(
    view: AboutView,
    refresh: ServerAction<RefreshAbout>,
    pick: ServerAction<PickAbout>,
    progress: RwSignal<Option<(u32, u32)>>,
) -> impl IntoView {
    let id = view.contact_id;
    let running = view.running;
    let status = move || match progress.get() {
        Some((done, total)) => format!("Looking up… {done} of {total} providers done"),
        None if running || refresh.pending().get() => "Looking up…".to_owned(),
        None => String::new(),
    };
    let empty = view.fields.is_empty().then(|| {
        view! { <p class="muted">"Nothing is known about this contact beyond their mail yet."</p> }
    });
    let fields = view
        .fields
        .into_iter()
        .map(|field| view! { <AboutFieldRow id field pick/> })
        .collect_view();
    let lookups = view
        .lookups
        .into_iter()
        .map(|l| {
            let outcome = match l.error {
                Some(error) => format!("{}: {error}", l.status),
                None => l.status.to_string().replace('_', " "),
            };
            view! {
                <li>
                    <strong>{l.label}</strong> " (" {l.request_key} "): " {outcome}
                    " · " <time datetime=l.fetched_at.to_rfc3339()>{day(Some(l.fetched_at))}</time>
                </li>
            }
        })
        .collect_view();
    let has_posts = !view.posts.is_empty();
    let posts = view
        .posts
        .into_iter()
        .map(|p| {
            view! {
                <li>
                    <p>{p.text}</p>
                    <p class="muted">"@" {p.handle} " · " {day(Some(p.posted_at))}</p>
                </li>
            }
        })
        .collect_view();
    view! {
        <ActionForm action=refresh attr:class="inline-form">
            <input type="hidden" name="contact_id" value=id.to_string()/>
            <button class="button" type="submit" data-testid="about-refresh">"Refresh"</button>
            <span class="muted" role="status" data-testid="about-status">{status}</span>
        </ActionForm>
        {empty}
        <dl class="about-fields">{fields}</dl>
        <Show when=move || has_posts>
            <h3>"Recent posts on X"</h3>
        </Show>
        <ul class="about-posts" data-testid="about-posts">{posts}</ul>
        <details class="about-lookups">
            <summary>"Lookups"</summary>
            <ul>{lookups}</ul>
        </details>
    }
}

#[component]
fn AboutFieldRow(id: Uuid, field: AboutField, pick: ServerAction<PickAbout>) -> impl IntoView {
    let name = field.field.as_str();
    let values = field
        .values
        .into_iter()
        .map(|v| {
            let source = format!(
                "{}{}",
                v.source_label,
                if v.at.is_some() {
                    format!(", {}", day(v.at))
                } else {
                    String::new()
                }
            );
            let picked_source = v.source.clone();
            let choose = (!v.current && v.confidence.is_some()).then(move || {
                view! {
                    <ActionForm action=pick attr:class="inline-form">
                        <input type="hidden" name="contact_id" value=id.to_string()/>
                        <input type="hidden" name="field" value=name/>
                        <input type="hidden" name="source" value=picked_source/>
                        <button class="link-button" type="submit">"Use this"</button>
                    </ActionForm>
                }
            });
            view! {
                <li class:current=v.current data-source=v.source.clone()>
                    <span class="value">{v.value}</span>
                    " " <span class="muted source">"(" {source} ")"</span>
                    {choose}
                </li>
            }
        })
        .collect_view();
    view! {
        <dt>{field.label}</dt>
        <dd data-field=name><ul class="about-values">{values}</ul></dd>
    }
}
