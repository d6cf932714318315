//! The contact page's view: header, stats cards, the panels, the profile editor,
//! identities, threads, duplicates with Merge, and the merge log.

use api::contacts::{
    ContactData, DuplicateRow, IdentityRow, MergeRow, ProfileValues, StatsView, ThreadRow,
};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use uuid::Uuid;

use super::data::{ContactActions, MergeContacts, NotTheSamePerson, SaveProfile, UnmergeContacts};
use crate::components::about_panel::AboutPanel;
use crate::components::activity_timeline::ActivityTimeline;
use crate::components::interactions_panel::InteractionsPanel;
use crate::components::keep_in_touch_panel::KeepInTouchPanel;
use crate::components::notes_panel::NotesPanel;
use crate::components::relationship_panel::RelationshipPanel;
use crate::components::volume_chart::VolumeChart;

#[component]
pub fn ContactView(data: ContactData, actions: ContactActions) -> impl IntoView {
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
            <KeepInTouchPanel data=actions.keep_in_touch/>
            <AboutPanel data=actions.about/>
            <section class="card">
                <h2>"Emails per month"</h2>
                <VolumeChart months=data.chart.clone()/>
            </section>
            <div class="dual-timeline">
                <ActivityTimeline contact=data.id feed=actions.feed/>
                <NotesPanel contact=data.id data=actions.notes/>
            </div>
            <InteractionsPanel id=data.id data=actions.interactions/>
            <div class="two-columns">
                <div>
                    <ProfileEditor id=data.id values=data.profile.clone() user_fields=data.user_fields.clone() save=actions.save/>
                    <Identities identities=data.identities.clone()/>
                </div>
                <div>
                    <Threads threads=data.threads.clone()/>
                    <Duplicates winner=data.id duplicates=data.duplicates.clone() merge=actions.merge distinct=actions.distinct/>
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
                view! { <p class="form-error" role="alert">{e.user_message()}</p> }.into_any()
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
                                <li><span class="badge">{i.kind.as_str()}</span> " " {i.value} " " <span class="muted small">{format!("from {}", i.source)}</span></li>
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
    distinct: ServerAction<NotTheSamePerson>,
) -> impl IntoView {
    let error = move || {
        merge
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| distinct.value().get().and_then(Result::err))
            .map(|e| {
                view! { <p class="form-error" role="alert">{e.user_message()}</p> }
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
                                    <ActionForm action=distinct attr:class="inline-form">
                                        <input type="hidden" name="contact" value=winner.to_string()/>
                                        <input type="hidden" name="other" value=d.id.to_string()/>
                                        <button class="button secondary" type="submit" disabled=move || distinct.pending().get()>
                                            "Not the same person"
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
            view! { <p class="form-error" role="alert">{e.user_message()}</p> }
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
                            let automatic = m.rule.map(|rule| {
                                view! {
                                    <p class="muted small merge-reason">
                                        <strong>{format!("Merged automatically ({}): ", rule.label())}</strong>
                                        {m.reason.clone().unwrap_or_default()}
                                    </p>
                                }
                            });
                            let undo = if m.rule.is_some() { "Undo merge" } else { "Un-merge" };
                            view! {
                                <li data-merge-id=m.id.to_string() data-automatic=m.rule.is_some().to_string()>
                                    <a href=format!("/contacts/{}", m.loser_id)>{m.loser_name}</a>
                                    " merged into "
                                    <a href=format!("/contacts/{}", m.winner_id)>{m.winner_name}</a>
                                    <span class="muted small">{format!(" · {}", m.merged_at.format("%e %b %Y, %H:%M UTC"))}</span>
                                    {automatic}
                                    {match m.unmerged_at {
                                        Some(at) => view! {
                                            <span class="muted small">{format!(" · un-merged {}", at.format("%e %b %Y, %H:%M UTC"))}</span>
                                        }
                                        .into_any(),
                                        None => view! {
                                            <ActionForm action=unmerge attr:class="inline-form">
                                                <input type="hidden" name="merge" value=m.id.to_string()/>
                                                <button class="button" type="submit" disabled=move || unmerge.pending().get()>{undo}</button>
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
