//! One contact: editable profile, identities, stats cards, monthly volume, strength in
//! words, recent threads, duplicate suggestions with Merge, and the merge log.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::activity_timeline::{ActivityFeed, ActivityTimeline};
use super::notes_panel::{NotesData, NotesPanel};
use super::relationship_panel::{RelationshipData, RelationshipPanel, relationship_data};
use super::volume_chart::{MonthBar, VolumeChart};
use crate::errors::{RequestIdLine, user_message};

/// How many threads the contact page lists.
#[cfg(feature = "ssr")]
const THREADS_SHOWN: i64 = 15;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactData {
    pub id: Uuid,
    pub name: String,
    pub profile: ProfileValues,
    pub company_id: Option<Uuid>,
    pub company_label: Option<String>,
    /// Fields the user edited (provenance "user"): sync leaves them alone.
    pub user_fields: Vec<String>,
    pub identities: Vec<IdentityRow>,
    pub merged_into: Option<Uuid>,
    pub stats: StatsView,
    pub chart: Vec<MonthBar>,
    pub threads: Vec<ThreadRow>,
    pub duplicates: Vec<DuplicateRow>,
    pub merges: Vec<MergeRow>,
}

/// The profile form's current values, as text. Missing fields read as empty.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProfileValues {
    pub display_name: String,
    pub title: String,
    pub company: String,
    pub emails: String,
    pub phones: String,
    pub linkedin: String,
    pub website: String,
    pub twitter: String,
    pub tags: String,
    pub notes: String,
    pub custom_fields: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityRow {
    pub kind: String,
    pub value: String,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsView {
    pub sent: i32,
    pub received: i32,
    pub first_at: Option<DateTime<Utc>>,
    pub last_at: Option<DateTime<Utc>>,
    pub last_sent_at: Option<DateTime<Utc>>,
    pub last_received_at: Option<DateTime<Utc>>,
    /// "3 h (mean 5 h, 12 replies)", or `None` without replies.
    pub my_reply: Option<String>,
    pub their_reply: Option<String>,
    pub unanswered: i32,
    pub frequency: i16,
    pub strength: i16,
    pub explanation: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadRow {
    pub subject: String,
    pub snippet: Option<String>,
    pub last_at: DateTime<Utc>,
    pub messages: i64,
    pub outbound: bool,
    /// Gmail's thread view, or the timeline for other sources.
    pub href: String,
    pub in_gmail: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicateRow {
    pub id: Uuid,
    pub name: String,
    pub email: Option<String>,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeRow {
    pub id: Uuid,
    pub winner_id: Uuid,
    pub winner_name: String,
    pub loser_id: Uuid,
    pub loser_name: String,
    pub merged_at: DateTime<Utc>,
    pub unmerged_at: Option<DateTime<Utc>>,
}

#[cfg(feature = "ssr")]
fn reply_summary(median: Option<f64>, mean: Option<f64>, count: i32) -> Option<String> {
    use domain::contacts::strength::human_duration;
    let median = median?;
    let replies = if count == 1 {
        "1 reply".to_owned()
    } else {
        format!("{count} replies")
    };
    Some(match mean {
        Some(mean) => format!(
            "{} (mean {}, {replies})",
            human_duration(median),
            human_duration(mean)
        ),
        None => format!("{} ({replies})", human_duration(median)),
    })
}

#[server]
pub async fn load_contact(id: Uuid) -> Result<ContactData, ServerFnError> {
    use super::volume_chart::chart_months;
    use crate::ssr::{request_context, to_server_error};
    let ctx = request_context()?;
    let scope = ctx.scope();
    let now = Utc::now();
    let profile = scope.view_contact(id).await.map_err(to_server_error)?;
    let identities = scope
        .contact_identities(id)
        .await
        .map_err(to_server_error)?;
    let stats = scope.contact_stats(id).await.map_err(to_server_error)?;
    let threads = scope
        .recent_threads(id, THREADS_SHOWN)
        .await
        .map_err(to_server_error)?;
    let duplicates = if profile.merged_into.is_none() {
        scope
            .duplicate_suggestions(id)
            .await
            .map_err(to_server_error)?
    } else {
        Vec::new()
    };
    let merges = scope.merge_log(id).await.map_err(to_server_error)?;

    let of_kind = |kind: &str| {
        identities
            .iter()
            .filter(|i| i.kind == kind)
            .map(|i| i.value.clone())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let links = profile.link_pairs();
    let link = |kind: &str| {
        links
            .iter()
            .find(|(k, _)| k == kind)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let values = ProfileValues {
        display_name: profile.display_name.clone().unwrap_or_default(),
        title: profile.title.clone().unwrap_or_default(),
        company: profile.company_domain.clone().unwrap_or_default(),
        emails: of_kind("email"),
        phones: of_kind("phone"),
        linkedin: link("linkedin"),
        website: link("website"),
        twitter: link("twitter"),
        tags: profile.tags.join(", "),
        notes: profile.notes.clone(),
        custom_fields: profile
            .custom_field_pairs()
            .into_iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join("\n"),
    };
    let user_fields = profile.user_edited_fields();
    let name = profile
        .display_name
        .clone()
        .or_else(|| identities.first().map(|i| i.value.clone()))
        .unwrap_or_else(|| "(no name)".into());
    Ok(ContactData {
        id,
        name,
        company_id: profile.company_id,
        company_label: profile
            .company_name
            .clone()
            .or(profile.company_domain.clone()),
        profile: values,
        user_fields,
        identities: identities
            .iter()
            .map(|i| IdentityRow {
                kind: i.kind.clone(),
                value: i.value.clone(),
                source: i.source.clone(),
            })
            .collect(),
        merged_into: profile.merged_into,
        chart: chart_months(&stats.monthly, now),
        stats: StatsView {
            sent: stats.sent_count,
            received: stats.received_count,
            first_at: stats.first_interaction_at,
            last_at: stats.last_interaction_at,
            last_sent_at: stats.last_sent_at,
            last_received_at: stats.last_received_at,
            my_reply: reply_summary(
                stats.my_reply_median_secs,
                stats.my_reply_mean_secs,
                stats.my_reply_count,
            ),
            their_reply: reply_summary(
                stats.their_reply_median_secs,
                stats.their_reply_mean_secs,
                stats.their_reply_count,
            ),
            unanswered: stats.unanswered_inbound,
            frequency: stats.frequency_score,
            strength: stats.strength,
            explanation: stats.explanation(now),
        },
        threads: threads
            .into_iter()
            .map(|t| {
                let in_gmail = t.from_gmail && t.thread_key.is_some();
                ThreadRow {
                    subject: t
                        .subject
                        .filter(|s| !s.trim().is_empty())
                        .unwrap_or_else(|| "(no subject)".into()),
                    snippet: t.snippet,
                    last_at: t.last_at,
                    messages: t.messages,
                    outbound: t.direction.as_deref() == Some("outbound"),
                    href: match (in_gmail, &t.thread_key) {
                        (true, Some(key)) => {
                            format!("https://mail.google.com/mail/u/0/#all/{key}")
                        }
                        _ => "/timeline".to_owned(),
                    },
                    in_gmail,
                }
            })
            .collect(),
        duplicates: duplicates
            .into_iter()
            .map(|d| DuplicateRow {
                id: d.contact_id,
                name: d
                    .display_name
                    .or(d.primary_email.clone())
                    .unwrap_or_else(|| "(no name)".into()),
                email: d.primary_email,
                reasons: d.reasons,
            })
            .collect(),
        merges: merges
            .into_iter()
            .map(|m| MergeRow {
                id: m.id,
                winner_id: m.winner_id,
                winner_name: m.winner_name.unwrap_or_else(|| "(no name)".into()),
                loser_id: m.loser_id,
                loser_name: m.loser_name.unwrap_or_else(|| "(no name)".into()),
                merged_at: m.merged_at,
                unmerged_at: m.unmerged_at,
            })
            .collect(),
    })
}

/// Saves the profile form (`profile[display_name]`, `profile[title]`, ...).
#[server]
pub async fn save_profile(id: Uuid, profile: ProfileValues) -> Result<(), ServerFnError> {
    use crate::ssr::{request_context, to_server_error};
    use domain::contacts::{ProfileEdit, ProfileForm};
    let ctx = request_context()?;
    let edit = ProfileEdit::parse(&ProfileForm {
        display_name: profile.display_name,
        title: profile.title,
        company: profile.company,
        emails: profile.emails,
        phones: profile.phones,
        linkedin: profile.linkedin,
        website: profile.website,
        twitter: profile.twitter,
        tags: profile.tags,
        notes: profile.notes,
        custom_fields: profile.custom_fields,
    })
    .map_err(to_server_error)?;
    ctx.scope()
        .update_profile(id, &edit)
        .await
        .map_err(to_server_error)
}

/// Merges `loser` into `winner`; returns the merge's id.
#[server]
pub async fn merge_contacts(
    winner: Uuid,
    loser: Uuid,
    #[server(default)] reason: String,
) -> Result<Uuid, ServerFnError> {
    use crate::ssr::{request_context, to_server_error};
    let ctx = request_context()?;
    let reason = Some(reason.trim()).filter(|r| !r.is_empty());
    ctx.scope()
        .merge_contacts(winner, loser, reason)
        .await
        .map_err(to_server_error)
}

#[server]
pub async fn unmerge_contacts(merge: Uuid) -> Result<(), ServerFnError> {
    use crate::ssr::{request_context, to_server_error};
    let ctx = request_context()?;
    ctx.scope().unmerge(merge).await.map_err(to_server_error)
}

#[component]
pub fn ContactDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id =
        Memo::new(move |_| params.with(|p| p.get("id").and_then(|id| id.parse::<Uuid>().ok())));
    let save = ServerAction::<SaveProfile>::new();
    let merge = ServerAction::<MergeContacts>::new();
    let unmerge = ServerAction::<UnmergeContacts>::new();
    let contact = Resource::new(
        move || {
            (
                id.get(),
                save.version().get(),
                merge.version().get(),
                unmerge.version().get(),
            )
        },
        |(id, _, _, _)| async move {
            match id {
                Some(id) => load_contact(id).await,
                None => {
                    crate::errors::set_status(404);
                    Err(ServerFnError::ServerError("Contact not found".into()))
                }
            }
        },
    );
    let actions = ContactActions {
        save,
        merge,
        unmerge,
        feed: ActivityFeed::new(id),
        notes: NotesData::new(id),
        relationship: relationship_data(id),
    };
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading contact…"</p> }>
            {move || Suspend::new(async move {
                match contact.await {
                    Ok(data) => view! { <ContactView data actions/> }.into_any(),
                    Err(error) => view! { <LoadError error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// A page whose data could not be loaded. The server function already set the HTTP
/// status (404 for someone else's or a missing contact, 500 for a fault), which the
/// generic error panel would overwrite with 500.
#[component]
pub fn LoadError(error: ServerFnError) -> impl IntoView {
    view! {
        <div class="error-panel" role="alert">
            <h2>{user_message(&error)}</h2>
            <p><a href="/contacts">"Back to contacts"</a></p>
            <RequestIdLine/>
        </div>
    }
}

/// What the page creates above its Suspense (see `ActivityFeed`): actions, and the
/// timelines' data, which load alongside the contact rather than after it.
#[derive(Clone, Copy)]
struct ContactActions {
    save: ServerAction<SaveProfile>,
    merge: ServerAction<MergeContacts>,
    unmerge: ServerAction<UnmergeContacts>,
    feed: ActivityFeed,
    notes: NotesData,
    relationship: RelationshipData,
}

#[component]
fn ContactView(data: ContactData, actions: ContactActions) -> impl IntoView {
    let merged_notice = data.merged_into.map(|into| {
        view! {
            <p class="banner warning" role="status">
                "This contact was merged into " <a href=format!("/contacts/{into}")>"another contact"</a>
                ". Un-merge it from the merge log below to bring it back."
            </p>
        }
    });
    let subtitle = match (&data.profile.title.is_empty(), &data.company_label, data.company_id) {
        (false, Some(company), Some(id)) => view! {
            <p class="muted">{data.profile.title.clone()} " at " <a href=format!("/companies/{id}")>{company.clone()}</a></p>
        }
        .into_any(),
        (true, Some(company), Some(id)) => view! {
            <p class="muted"><a href=format!("/companies/{id}")>{company.clone()}</a></p>
        }
        .into_any(),
        (false, _, _) => view! { <p class="muted">{data.profile.title.clone()}</p> }.into_any(),
        _ => ().into_any(),
    };
    view! {
        <Title text=data.name.clone()/>
        <section class="page contact-page" data-contact-id=data.id.to_string()>
            <header class="page-header">
                <div>
                    <p class="breadcrumb"><a href="/contacts">"Contacts"</a></p>
                    <h1>{data.name.clone()}</h1>
                    {subtitle}
                </div>
                <div class="strength-badge" title="Relationship strength, 0 to 100">
                    <span class="value">{data.stats.strength}</span>
                    <span class="label">"strength"</span>
                </div>
            </header>
            {merged_notice}
            <p class="strength-explanation">{data.stats.explanation.clone()}</p>
            <StatsCards stats=data.stats.clone()/>
            <RelationshipPanel data=actions.relationship/>
            <section class="card">
                <h2>"Emails per month"</h2>
                <VolumeChart months=data.chart.clone()/>
            </section>
            <div class="dual-timeline">
                <ActivityTimeline contact=data.id feed=actions.feed/>
                <NotesPanel contact=data.id data=actions.notes/>
            </div>
            <div class="two-columns">
                <div>
                    <ProfileEditor id=data.id values=data.profile.clone() user_fields=data.user_fields.clone() save=actions.save/>
                    <Identities identities=data.identities.clone()/>
                </div>
                <div>
                    <Threads threads=data.threads.clone()/>
                    <Duplicates winner=data.id duplicates=data.duplicates.clone() merge=actions.merge/>
                    <MergeLog merges=data.merges.clone() unmerge=actions.unmerge/>
                </div>
            </div>
        </section>
    }
}

fn day(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(|| "—".to_owned(), |at| at.format("%e %b %Y").to_string())
}

#[component]
fn StatsCards(stats: StatsView) -> impl IntoView {
    let cards = [
        (
            "Sent",
            stats.sent.to_string(),
            format!("last {}", day(stats.last_sent_at)),
        ),
        (
            "Received",
            stats.received.to_string(),
            format!("last {}", day(stats.last_received_at)),
        ),
        (
            "You reply in",
            stats.my_reply.clone().unwrap_or_else(|| "—".into()),
            "median".to_owned(),
        ),
        (
            "They reply in",
            stats.their_reply.clone().unwrap_or_else(|| "—".into()),
            "median".to_owned(),
        ),
        (
            "Waiting for you",
            stats.unanswered.to_string(),
            "threads without your reply".to_owned(),
        ),
        (
            "Frequency",
            format!("{}/100", stats.frequency),
            format!("since {}", day(stats.first_at)),
        ),
    ];
    view! {
        <dl class="stat-cards">
            {cards
                .into_iter()
                .map(|(label, value, note)| {
                    view! {
                        <div class="stat-card">
                            <dt>{label}</dt>
                            <dd class="value">{value}</dd>
                            <dd class="note muted">{note}</dd>
                        </div>
                    }
                })
                .collect_view()}
        </dl>
    }
}

#[component]
fn ProfileEditor(
    id: Uuid,
    values: ProfileValues,
    user_fields: Vec<String>,
    save: ServerAction<SaveProfile>,
) -> impl IntoView {
    let result = move || {
        save.value().get().map(|r| match r {
            Ok(()) => view! { <p class="form-ok" role="status">"Saved."</p> }.into_any(),
            Err(e) => {
                view! { <p class="form-error" role="alert">{user_message(&e)}</p> }.into_any()
            }
        })
    };
    let edited = (!user_fields.is_empty()).then(|| {
        view! {
            <p class="muted small">
                "Edited by you (sync keeps these): " {user_fields.join(", ").replace('_', " ")}
            </p>
        }
    });
    let field = move |name: &'static str, label: &'static str, value: String| {
        view! {
            <label>
                {label}
                <input name=name value=value autocomplete="off"/>
            </label>
        }
    };
    let area = move |name: &'static str, label: &'static str, value: String, hint: &'static str| {
        view! {
            <label>
                {label}
                <textarea name=name rows="3" placeholder=hint>{value}</textarea>
            </label>
        }
    };
    view! {
        <section class="card">
            <h2>"Profile"</h2>
            <ActionForm action=save attr:class="profile-form">
                <input type="hidden" name="id" value=id.to_string()/>
                {field("profile[display_name]", "Name", values.display_name)}
                {field("profile[title]", "Title", values.title)}
                {field("profile[company]", "Company (web domain or known name)", values.company)}
                {area("profile[emails]", "Emails", values.emails, "one per line")}
                {area("profile[phones]", "Phones", values.phones, "+44 20 7946 0958")}
                {field("profile[linkedin]", "LinkedIn", values.linkedin)}
                {field("profile[website]", "Website", values.website)}
                {field("profile[twitter]", "Twitter / X", values.twitter)}
                {field("profile[tags]", "Tags (comma-separated)", values.tags)}
                {area("profile[notes]", "Notes", values.notes, "")}
                {area("profile[custom_fields]", "Custom fields", values.custom_fields, "Birthday: 10 Dec")}
                <button class="button primary" type="submit" disabled=move || save.pending().get()>"Save profile"</button>
                {result}
            </ActionForm>
            {edited}
        </section>
    }
}

#[component]
fn Identities(identities: Vec<IdentityRow>) -> impl IntoView {
    view! {
        <section class="card">
            <h2>"Identities"</h2>
            {if identities.is_empty() {
                view! { <p class="muted">"No email addresses or phone numbers yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="identities">
                        {identities
                            .into_iter()
                            .map(|i| view! {
                                <li><span class="badge">{i.kind}</span> " " {i.value} " " <span class="muted small">{format!("from {}", i.source)}</span></li>
                            })
                            .collect_view()}
                    </ul>
                }
                .into_any()
            }}
        </section>
    }
}

#[component]
fn Threads(threads: Vec<ThreadRow>) -> impl IntoView {
    view! {
        <section class="card">
            <h2>"Recent threads"</h2>
            {if threads.is_empty() {
                view! { <p class="muted">"No emails with this contact yet."</p> }.into_any()
            } else {
                view! {
                    <ol class="threads">
                        {threads
                            .into_iter()
                            .map(|t| {
                                let external = t.in_gmail;
                                view! {
                                    <li>
                                        <a href=t.href target=external.then_some("_blank") rel=external.then_some("noopener")>
                                            {t.subject}
                                        </a>
                                        <span class="muted small">
                                            {if t.outbound { " · you wrote last · " } else { " · they wrote last · " }}
                                            {format!("{} message{} · ", t.messages, if t.messages == 1 { "" } else { "s" })}
                                            <time datetime=t.last_at.to_rfc3339()>{t.last_at.format("%e %b %Y").to_string()}</time>
                                        </span>
                                        {t.snippet.map(|s| view! { <p class="snippet muted">{s}</p> })}
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ol>
                }
                .into_any()
            }}
        </section>
    }
}

#[component]
fn Duplicates(
    winner: Uuid,
    duplicates: Vec<DuplicateRow>,
    merge: ServerAction<MergeContacts>,
) -> impl IntoView {
    let error = move || {
        merge.value().get().and_then(Result::err).map(|e| {
            view! { <p class="form-error" role="alert">{user_message(&e)}</p> }
        })
    };
    (!duplicates.is_empty()).then(|| {
        view! {
            <section class="card duplicates">
                <h2>"Possible duplicates"</h2>
                <ul>
                    {duplicates
                        .into_iter()
                        .map(|d| {
                            let reason = d.reasons.join("; ");
                            view! {
                                <li data-duplicate-id=d.id.to_string()>
                                    <a href=format!("/contacts/{}", d.id)>{d.name.clone()}</a>
                                    {d.email.map(|e| view! { <span class="muted">{format!(" · {e}")}</span> })}
                                    <p class="muted small">{reason.clone()}</p>
                                    <ActionForm action=merge attr:class="inline-form">
                                        <input type="hidden" name="winner" value=winner.to_string()/>
                                        <input type="hidden" name="loser" value=d.id.to_string()/>
                                        <input type="hidden" name="reason" value=reason/>
                                        <button class="button" type="submit" disabled=move || merge.pending().get()>
                                            {format!("Merge {} into this contact", d.name)}
                                        </button>
                                    </ActionForm>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
                {error}
            </section>
        }
    })
}

#[component]
fn MergeLog(merges: Vec<MergeRow>, unmerge: ServerAction<UnmergeContacts>) -> impl IntoView {
    let error = move || {
        unmerge.value().get().and_then(Result::err).map(|e| {
            view! { <p class="form-error" role="alert">{user_message(&e)}</p> }
        })
    };
    (!merges.is_empty()).then(|| {
        view! {
            <section class="card merge-log">
                <h2>"Merge log"</h2>
                <ol>
                    {merges
                        .into_iter()
                        .map(|m| {
                            view! {
                                <li>
                                    <a href=format!("/contacts/{}", m.loser_id)>{m.loser_name}</a>
                                    " merged into "
                                    <a href=format!("/contacts/{}", m.winner_id)>{m.winner_name}</a>
                                    <span class="muted small">{format!(" · {}", m.merged_at.format("%e %b %Y, %H:%M UTC"))}</span>
                                    {match m.unmerged_at {
                                        Some(at) => view! {
                                            <span class="muted small">{format!(" · un-merged {}", at.format("%e %b %Y, %H:%M UTC"))}</span>
                                        }
                                        .into_any(),
                                        None => view! {
                                            <ActionForm action=unmerge attr:class="inline-form">
                                                <input type="hidden" name="merge" value=m.id.to_string()/>
                                                <button class="button" type="submit" disabled=move || unmerge.pending().get()>"Un-merge"</button>
                                            </ActionForm>
                                        }
                                        .into_any(),
                                    }}
                                </li>
                            }
                        })
                        .collect_view()}
                </ol>
                {error}
            </section>
        }
    })
}
