//! The contacts list: search, filters, sort links, pages addressed by query string (so
//! every view has a URL and works without JavaScript), the top contacts strip, bulk
//! tagging and the manual "Add contact".

use api::contacts::{ContactList, ContactRow, ListParams};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;
use uuid::Uuid;

use crate::app_error::AppError;
use crate::components::about_panel::BulkRefreshAbout;
use crate::errors::ErrorPanel;
use crate::layout::urlencode;
use crate::pages::reminders::{BulkFrequency, RemindersCard};

/// How many contacts the top strip shows.
#[cfg(feature = "ssr")]
const TOP_CONTACTS: i64 = 8;
const SORTS: [(&str, &str); 4] = [
    ("strength", "Strength"),
    ("recent", "Most recent"),
    ("emails", "Most emails"),
    ("name", "Name"),
];

/// The list's parameters in a URL: read from a query string, written as a link.
pub trait ListUrl {
    fn from_query(query: &ParamsMap) -> Self;
    /// `/contacts?...` for these parameters, leaving out empty ones.
    fn href(&self) -> String;
}

impl ListUrl for ListParams {
    fn from_query(query: &ParamsMap) -> Self {
        let text = |key: &str| query.get(key).unwrap_or_default().trim().to_owned();
        Self {
            q: text("q"),
            company: text("company"),
            tag: text("tag"),
            unanswered: !text("unanswered").is_empty(),
            from: text("from"),
            to: text("to"),
            sort: text("sort"),
            page: text("page").parse().unwrap_or(1).max(1),
        }
    }

    fn href(&self) -> String {
        let mut pairs: Vec<(&str, String)> = vec![
            ("q", self.q.clone()),
            ("company", self.company.clone()),
            ("tag", self.tag.clone()),
            ("from", self.from.clone()),
            ("to", self.to.clone()),
            ("sort", self.sort.clone()),
        ];
        if self.unanswered {
            pairs.push(("unanswered", "1".into()));
        }
        if self.page > 1 {
            pairs.push(("page", self.page.to_string()));
        }
        let query: Vec<String> = pairs
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", urlencode(&v)))
            .collect();
        if query.is_empty() {
            "/contacts".to_owned()
        } else {
            format!("/contacts?{}", query.join("&"))
        }
    }
}

#[server]
pub async fn list_contacts(#[server(default)] params: ListParams) -> Result<ContactList, AppError> {
    use crate::ssr::{RequestContext, reported};
    use domain::contacts::ContactQuery;
    use domain::contacts::view::contact_list;
    reported(async move {
        let ctx = RequestContext::current()?;
        let scope = ctx.scope();
        let query = ContactQuery::from_params(&params);
        let (page, top, tags) = scope.contacts().page(&query, TOP_CONTACTS).await?;
        let company_name = match query.company {
            Some(id) => scope
                .contacts()
                .company_overview(id)
                .await
                .ok()
                .map(|c| c.name.unwrap_or(c.domain)),
            None => None,
        };
        Ok(contact_list(page, top, tags, company_name))
    })
    .await
}

#[server]
pub async fn create_contact(name: String, email: String) -> Result<Uuid, AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let new = domain::contacts::NewContact::parse(&name, &email)?;
        Ok(ctx.scope().contacts().create(&new).await?)
    })
    .await
}

/// Adds a tag to the checked contacts; returns how many gained it.
#[server]
pub async fn tag_contacts(#[server(default)] ids: Vec<Uuid>, tag: String) -> Result<u64, AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        Ok(ctx.scope().contacts().tag(&ids, &tag).await?)
    })
    .await
}

#[component]
pub fn ContactsPage() -> impl IntoView {
    let create = ServerAction::<CreateContact>::new();
    let tag = ServerAction::<TagContacts>::new();
    let query = use_query_map();
    let params = Memo::new(move |_| query.with(ListParams::from_query));
    let contacts = Resource::new(
        move || (params.get(), create.version().get(), tag.version().get()),
        |(params, _, _)| list_contacts(params),
    );
    let (adding, set_adding) = signal(false);

    // Close the form after a contact was saved.
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_))) {
            set_adding.set(false);
        }
    });
    let create_error = move || {
        create.value().get().and_then(Result::err).map(|e| {
            view! { <p class="form-error" role="alert">{e.user_message()}</p> }
        })
    };

    view! {
        <Title text="Contacts"/>
        <section class="page">
            <header class="page-header">
                <h1>"Contacts"</h1>
                <button
                    class="button primary"
                    aria-expanded=move || adding.get().to_string()
                    aria-controls="new-contact"
                    on:click=move |_| set_adding.update(|open| *open = !*open)
                >
                    "Add contact"
                </button>
            </header>
            <Show when=move || adding.get()>
                <ActionForm action=create attr:id="new-contact" attr:class="card new-contact">
                    <label>
                        "Name"
                        <input name="name" autocomplete="off" placeholder="Ada Lovelace" autofocus/>
                    </label>
                    <label>
                        "Email"
                        <input name="email" type="email" autocomplete="off" placeholder="ada@example.com"/>
                    </label>
                    <button class="button primary" type="submit" disabled=move || create.pending().get()>
                        "Save contact"
                    </button>
                </ActionForm>
                {create_error}
            </Show>
            <RemindersCard/>
            <Transition fallback=|| view! { <p class="muted">"Loading contacts…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                    {move || Suspend::new(async move {
                        let params = params.get_untracked();
                        contacts.await.map(|list| view! { <ContactsView list params tag/> })
                    })}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

#[component]
fn ContactsView(
    list: ContactList,
    params: ListParams,
    tag: ServerAction<TagContacts>,
) -> impl IntoView {
    if list.total == 0 && !params.is_filtered() {
        return view! {
            <div class="empty-state">
                <h2>"No contacts yet"</h2>
                <p>
                    "Rapport builds your contacts from the people you email. Connect a mailbox in "
                    <a href="/settings">"Settings"</a>
                    ", or add someone by hand with "
                    <strong>"Add contact"</strong>
                    "."
                </p>
            </div>
        }
        .into_any();
    }
    // Each part takes its own fields: the rows are moved, not copied per part.
    let mut list = list;
    let (top, tags, company_name) = (
        std::mem::take(&mut list.top),
        std::mem::take(&mut list.tags),
        list.company_name.take(),
    );
    let pages = Pages::of(&list);
    view! {
        <TopStrip top/>
        <Filters params=params.clone() tags company_name/>
        <SortLinks params=params.clone()/>
        <ContactTable list tag/>
        <Pagination params pages/>
    }
    .into_any()
}

#[component]
fn TopStrip(top: Vec<ContactRow>) -> impl IntoView {
    (!top.is_empty()).then(|| {
        view! {
            <section class="top-contacts" aria-labelledby="top-contacts-heading">
                <h2 id="top-contacts-heading">"Top contacts"</h2>
                <ol>
                    {top
                        .into_iter()
                        .map(|c| {
                            view! {
                                <li>
                                    <a href=format!("/contacts/{}", c.id)>
                                        <span class="top-name">{c.name}</span>
                                        <span class="strength-pill" title="Relationship strength">{c.strength}</span>
                                    </a>
                                </li>
                            }
                        })
                        .collect_view()}
                </ol>
            </section>
        }
    })
}

#[component]
fn Filters(params: ListParams, tags: Vec<String>, company_name: Option<String>) -> impl IntoView {
    let company_chip = company_name.map(|name| {
        let without = ListParams {
            company: String::new(),
            page: 1,
            ..params.clone()
        };
        view! {
            <p class="filter-chip">
                "Company: " <strong>{name}</strong> " "
                <a href=without.href() aria-label="Remove the company filter">"×"</a>
            </p>
        }
    });
    let selected_tag = params.tag.clone();
    view! {
        <form class="filters card" method="get" action="/contacts" role="search" aria-label="Filter contacts">
            <label class="grow">
                "Search"
                <input type="search" name="q" value=params.q.clone() placeholder="Name, email or company"/>
            </label>
            <label>
                "Tag"
                <select name="tag">
                    <option value="" selected=selected_tag.is_empty()>"Any"</option>
                    {tags
                        .into_iter()
                        .map(|t| {
                            let selected = t == selected_tag;
                            view! { <option value=t.clone() selected=selected>{t.clone()}</option> }
                        })
                        .collect_view()}
                </select>
            </label>
            <label>
                "Last contact from"
                <input type="date" name="from" value=params.from.clone()/>
            </label>
            <label>
                "to"
                <input type="date" name="to" value=params.to.clone()/>
            </label>
            <label class="check">
                <input type="checkbox" name="unanswered" value="1" checked=params.unanswered/>
                "Waiting for my reply"
            </label>
            <input type="hidden" name="sort" value=params.sort.clone()/>
            <input type="hidden" name="company" value=params.company.clone()/>
            <button class="button primary" type="submit">"Apply"</button>
            {params.is_filtered().then(|| view! { <a class="button" href="/contacts">"Clear"</a> })}
        </form>
        {company_chip}
    }
}

#[component]
fn SortLinks(params: ListParams) -> impl IntoView {
    let current = if params.sort.is_empty() {
        "strength".to_owned()
    } else {
        params.sort.clone()
    };
    view! {
        <nav class="sort-links" aria-label="Sort contacts">
            "Sort by: "
            {SORTS
                .into_iter()
                .map(|(key, label)| {
                    let href = ListParams {
                        sort: key.to_owned(),
                        page: 1,
                        ..params.clone()
                    }
                    .href();
                    let here = current == key;
                    view! {
                        <a href=href class:current=here aria-current=here.then_some("true")>{label}</a>
                    }
                })
                .collect_view()}
        </nav>
    }
}

#[component]
fn ContactTable(list: ContactList, tag: ServerAction<TagContacts>) -> impl IntoView {
    let count = match (list.total, list.total_is_floor) {
        (1, false) => "1 contact".to_owned(),
        (total, false) if list.page > 1 || list.has_next => format!(
            "{} contacts, page {} of {}",
            crate::format::count(total.unsigned_abs()),
            list.page,
            list.page_count
        ),
        (total, false) => format!("{} contacts", crate::format::count(total.unsigned_abs())),
        (total, true) => format!(
            "More than {} contacts, page {}",
            crate::format::count(total.unsigned_abs()),
            list.page
        ),
    };
    let tag_result = move || {
        tag.value().get().map(|result| match result {
            Ok(n) => {
                view! { <p class="form-ok" role="status">{format!("Tagged {n} contacts.")}</p> }
                    .into_any()
            }
            Err(e) => {
                view! { <p class="form-error" role="alert">{e.user_message()}</p> }.into_any()
            }
        })
    };
    if list.contacts.is_empty() {
        return view! {
            <p class="muted count">"No contacts match these filters."</p>
        }
        .into_any();
    }
    view! {
        <p class="muted count">{count}</p>
        <ActionForm action=tag attr:class="bulk-tag">
            <div class="bulk-bar">
                <label>
                    "Tag the checked contacts"
                    <input name="tag" required placeholder="investor" autocomplete="off"/>
                </label>
                <button class="button" type="submit" disabled=move || tag.pending().get()>"Add tag"</button>
                {tag_result}
                <BulkFrequency/>
                <BulkRefreshAbout/>
            </div>
            <table class="contacts">
                <thead>
                    <tr>
                        <th scope="col"><span class="visually-hidden">"Select"</span></th>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Email"</th>
                        <th scope="col">"Company"</th>
                        <th scope="col">"Title"</th>
                        <th scope="col" class="num">"Strength"</th>
                        <th scope="col" class="num">"Emails"</th>
                        <th scope="col">"Last contact"</th>
                    </tr>
                </thead>
                <tbody>
                    {list.contacts.into_iter().map(|c| view! { <ContactTableRow c/> }).collect_view()}
                </tbody>
            </table>
        </ActionForm>
    }
    .into_any()
}

#[component]
fn ContactTableRow(c: ContactRow) -> impl IntoView {
    let label = format!("Select {}", c.name);
    view! {
        <tr data-contact-id=c.id.to_string()>
            <td><input type="checkbox" name="ids[]" value=c.id.to_string() aria-label=label/></td>
            <td>
                <a href=format!("/contacts/{}", c.id)>{c.name.clone()}</a>
                {(c.unanswered > 0).then(|| view! { <span class="badge waiting" title="Waiting for your reply">"waiting"</span> })}
                {c.tags.into_iter().map(|t| view! { <span class="tag">{t}</span> }).collect_view()}
            </td>
            <td>{c.email}</td>
            <td>
                {match (c.company_id, c.company) {
                    (Some(id), Some(name)) => view! { <a href=format!("/companies/{id}")>{name}</a> }.into_any(),
                    (Some(id), None) => view! { <a href=format!("/companies/{id}")>"company"</a> }.into_any(),
                    _ => ().into_any(),
                }}
            </td>
            <td>{c.title}</td>
            <td class="num">{c.strength}</td>
            <td class="num">{c.emails}</td>
            <td>
                {c.last_interaction_at.map(|at| view! {
                    <time datetime=at.to_rfc3339()>{at.format("%e %b %Y").to_string()}</time>
                })}
            </td>
        </tr>
    }
}

/// Where a page is among the list's pages.
#[derive(Debug, Clone, Copy)]
struct Pages {
    page: i64,
    page_count: i64,
    has_next: bool,
    total_is_floor: bool,
}

impl Pages {
    fn of(list: &ContactList) -> Self {
        Self {
            page: list.page,
            page_count: list.page_count,
            has_next: list.has_next,
            total_is_floor: list.total_is_floor,
        }
    }
}

#[component]
fn Pagination(params: ListParams, pages: Pages) -> impl IntoView {
    let Pages {
        page,
        page_count,
        has_next,
        total_is_floor,
    } = pages;
    (page > 1 || has_next).then(|| {
        let link = |to: i64| {
            ListParams {
                page: to,
                ..params.clone()
            }
            .href()
        };
        view! {
            <nav class="pagination" aria-label="Pages">
                {(page > 1).then(|| view! { <a rel="prev" href=link(page - 1)>"← Previous"</a> })}
                <span>
                    {if total_is_floor {
                        format!("Page {page}")
                    } else {
                        format!("Page {page} of {page_count}")
                    }}
                </span>
                {has_next.then(|| view! { <a rel="next" href=link(page + 1)>"Next →"</a> })}
            </nav>
        }
    })
}
