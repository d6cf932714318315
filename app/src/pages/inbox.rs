//! The unified inbox: everything that arrived from every channel and is not done or
//! dismissed, newest first. Filter by channel and unread, search, "Load more" by
//! cursor, and the keyboard: j/k select, Enter opens, e marks done, # (or d) dismisses.
//! New items appear as they arrive (the live `activity.state` event), and changes made
//! in another tab too (`inbox.changed`).

use std::collections::HashSet;

use api::Channel;
use api::inbox::{InboxItem, InboxPage as Page, relative_time};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use uuid::Uuid;

use crate::app_error::AppError;
use crate::errors::LoadError;
use crate::live::{EventKind, listen_live};

/// One page of the inbox: `channels` separated by commas (none: all), `unread` only,
/// `q` in the mail search's language, after `cursor` (empty: the first page).
#[server]
pub async fn list_inbox(
    channels: String,
    unread: bool,
    q: String,
    cursor: String,
) -> Result<Page, AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let query = domain::inbox::InboxQuery::parse(&channels, unread, &q, &cursor)?;
        Ok(ctx.scope().inbox().page(&query).await?)
    })
    .await
}

/// Opens an item: marks it read; returns where it opens.
#[server]
pub async fn open_inbox_item(activity: Uuid) -> Result<String, AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        Ok(ctx.scope().inbox().open(activity).await?)
    })
    .await
}

/// Marks an item done: it leaves the inbox and stays on the timeline.
#[server]
pub async fn mark_done(activity: Uuid) -> Result<(), AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        Ok(ctx.scope().inbox().done(activity).await?)
    })
    .await
}

/// Puts an item marked done back in the inbox.
#[server]
pub async fn undo_done(activity: Uuid) -> Result<(), AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        Ok(ctx.scope().inbox().undo_done(activity).await?)
    })
    .await
}

/// Dismisses an item: it leaves the inbox and the timeline for good.
#[server]
pub async fn dismiss(activity: Uuid) -> Result<(), AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        Ok(ctx.scope().inbox().dismiss(activity).await?)
    })
    .await
}

/// The channels a filter chip is offered for (files are uploads, not arrivals).
fn filterable() -> impl Iterator<Item = Channel> {
    Channel::all()
        .iter()
        .copied()
        .filter(|c| *c != Channel::File)
}

/// Everything the page's parts share.
#[derive(Clone, Copy)]
struct Inbox {
    channels: RwSignal<Vec<Channel>>,
    unread: RwSignal<bool>,
    search: RwSignal<String>,
    /// Rows shown below the first page after "Load more", and the cursor after them.
    extra: RwSignal<Vec<InboxItem>>,
    extra_next: RwSignal<Option<String>>,
    /// Rows done or dismissed here, hidden before the server's next page says so.
    gone: RwSignal<HashSet<Uuid>>,
    selected: RwSignal<Option<Uuid>>,
    /// The last item marked done, offered for undo.
    undoable: RwSignal<Option<(Uuid, String)>>,
    error: RwSignal<Option<String>>,
    changes: RwSignal<u64>,
}

impl Inbox {
    fn refresh(self) {
        self.changes.update(|n| *n += 1);
    }

    /// A filter changed: start again from the first page.
    fn refilter(self) {
        self.extra.set(Vec::new());
        self.extra_next.set(None);
        self.selected.set(None);
    }

    fn channel_param(self) -> String {
        self.channels
            .get_untracked()
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    fn failed(self, error: AppError) {
        self.error.set(Some(error.user_message()));
    }

    fn done(self, id: Uuid, headline: String) {
        self.gone.update(|g| {
            g.insert(id);
        });
        self.error.set(None);
        leptos::task::spawn_local(async move {
            match mark_done(id).await {
                Ok(()) => self.undoable.set(Some((id, headline))),
                Err(e) => {
                    self.gone.update(|g| {
                        g.remove(&id);
                    });
                    self.failed(e);
                }
            }
        });
    }

    fn undo(self, id: Uuid) {
        self.undoable.set(None);
        leptos::task::spawn_local(async move {
            match undo_done(id).await {
                Ok(()) => {
                    self.gone.update(|g| {
                        g.remove(&id);
                    });
                    self.refresh();
                }
                Err(e) => self.failed(e),
            }
        });
    }

    fn dismiss(self, id: Uuid) {
        self.gone.update(|g| {
            g.insert(id);
        });
        self.error.set(None);
        leptos::task::spawn_local(async move {
            if let Err(e) = dismiss(id).await {
                self.gone.update(|g| {
                    g.remove(&id);
                });
                self.failed(e);
            }
        });
    }

    /// Marks the item read while its link goes where it opens.
    fn opened(self, id: Uuid) {
        leptos::task::spawn_local(async move {
            if let Err(e) = open_inbox_item(id).await {
                self.failed(e);
            }
        });
    }

    fn load_more(self, cursor: String, shown: Vec<InboxItem>) {
        let (channels, unread, q) = (
            self.channel_param(),
            self.unread.get_untracked(),
            self.search.get_untracked(),
        );
        leptos::task::spawn_local(async move {
            match list_inbox(channels, unread, q, cursor).await {
                Ok(page) => {
                    // Everything shown stays below the first page when it is read again,
                    // so an item pushed off the first page by a new arrival stays in view.
                    let mut rows = shown;
                    rows.extend(page.items);
                    self.extra.set(rows);
                    self.extra_next.set(Some(page.next.unwrap_or_default()));
                }
                Err(e) => self.failed(e),
            }
        });
    }
}

/// The first page, then the rows loaded after it that are older than its last row.
fn merged(first: &[InboxItem], extra: &[InboxItem], gone: &HashSet<Uuid>) -> Vec<InboxItem> {
    let last = first.last().map(|i| (i.occurred_at, i.id));
    let in_first: HashSet<Uuid> = first.iter().map(|i| i.id).collect();
    first
        .iter()
        .chain(extra.iter().filter(|i| {
            !in_first.contains(&i.id) && last.is_none_or(|last| (i.occurred_at, i.id) < last)
        }))
        .filter(|i| !gone.contains(&i.id))
        .cloned()
        .collect()
}

#[component]
pub fn InboxPage() -> impl IntoView {
    let inbox = Inbox {
        channels: RwSignal::new(Vec::new()),
        unread: RwSignal::new(false),
        search: RwSignal::new(String::new()),
        extra: RwSignal::new(Vec::new()),
        extra_next: RwSignal::new(None),
        gone: RwSignal::new(HashSet::new()),
        selected: RwSignal::new(None),
        undoable: RwSignal::new(None),
        error: RwSignal::new(None),
        changes: RwSignal::new(0),
    };
    listen_live(
        &[EventKind::ActivityState, EventKind::InboxChanged],
        move |_| inbox.refresh(),
    );
    let first = Resource::new(
        move || {
            (
                inbox.channels.get(),
                inbox.unread.get(),
                inbox.search.get(),
                inbox.changes.get(),
            )
        },
        |(channels, unread, q, _)| {
            let channels = channels
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(",");
            list_inbox(channels, unread, q, String::new())
        },
    );
    keyboard(inbox);
    view! {
        <Title text="Inbox"/>
        <section class="page inbox-page">
            <header class="page-header"><h1>"Inbox"</h1></header>
            <p class="muted shortcuts">
                "Everything that arrived, from every channel. Keys: "
                <kbd>"j"</kbd>"/"<kbd>"k"</kbd>" select, "<kbd>"Enter"</kbd>" open, "
                <kbd>"e"</kbd>" done, "<kbd>"#"</kbd>" dismiss."
            </p>
            <Filters inbox/>
            {move || inbox.error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            <div class="inbox-status" role="status">
                {move || inbox.undoable.get().map(|(id, headline)| view! {
                    <span>"Marked done: " {headline} " "</span>
                    <button class="button link" type="button" on:click=move |_| inbox.undo(id)>"Undo"</button>
                })}
            </div>
            <Transition fallback=|| view! { <p class="muted">"Loading the inbox…"</p> }>
                {move || Suspend::new(async move {
                    match first.await {
                        Ok(page) => view! { <InboxList page inbox/> }.into_any(),
                        Err(error) => view! { <LoadError error/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn Filters(inbox: Inbox) -> impl IntoView {
    view! {
        <div class="inbox-filters">
            <form role="search" aria-label="Inbox" class="inbox-search" on:submit=|ev| ev.prevent_default()>
                <input
                    type="search"
                    aria-label="Search sender, subject and text"
                    placeholder="Search sender, subject, text"
                    data-testid="inbox-search"
                    on:input=move |ev| {
                        inbox.search.set(event_target_value(&ev));
                        inbox.refilter();
                    }
                />
            </form>
            // The inbox box filters what is open here; all mail, ranked, is one click on.
            {move || {
                let q = inbox.search.get();
                (!q.trim().is_empty()).then(|| view! {
                    <a class="search-all" data-testid="search-all-mail" href=api::search::search_href(&q, 1)>
                        "Search all mail for “" {q.trim().to_owned()} "”"
                    </a>
                })
            }}
            <div class="chips" role="group" aria-label="Channels">
                {filterable()
                    .map(|channel| {
                        let on = move || inbox.channels.with(|c| c.contains(&channel));
                        view! {
                            <button
                                type="button"
                                class="chip"
                                data-channel=channel.as_str()
                                aria-pressed=move || on().to_string()
                                on:click=move |_| {
                                    inbox.channels.update(|c| match c.iter().position(|x| *x == channel) {
                                        Some(i) => {
                                            c.remove(i);
                                        }
                                        None => c.push(channel),
                                    });
                                    inbox.refilter();
                                }
                            >
                                {channel.label()}
                            </button>
                        }
                    })
                    .collect_view()}
                <button
                    type="button"
                    class="chip unread-toggle"
                    data-testid="unread-toggle"
                    aria-pressed=move || inbox.unread.get().to_string()
                    on:click=move |_| {
                        inbox.unread.update(|u| *u = !*u);
                        inbox.refilter();
                    }
                >
                    "Unread only"
                </button>
            </div>
        </div>
    }
}

#[component]
fn InboxList(page: Page, inbox: Inbox) -> impl IntoView {
    let Page { items, next, now } = page;
    let filtered = !inbox.channels.with_untracked(Vec::is_empty)
        || inbox.unread.get_untracked()
        || !inbox.search.with_untracked(String::is_empty);
    let rows = Memo::new(move |_| {
        inbox
            .extra
            .with(|extra| inbox.gone.with(|gone| merged(&items, extra, gone)))
    });
    // A re-read draws the list anew: the selected row takes the focus back, unless the
    // user moved it elsewhere (the search box, a chip).
    Effect::new(move |_| {
        // After the new list replaced the old one in the document.
        request_animation_frame(move || {
            if let Some(id) = inbox.selected.get_untracked() {
                focus_row(id, false);
            }
        });
    });
    let next = move || match inbox.extra_next.get() {
        Some(after_extra) => (!after_extra.is_empty()).then_some(after_extra),
        None => next.clone(),
    };
    view! {
        {move || (rows.with(Vec::is_empty)).then(|| empty_state(filtered))}
        <ol class="inbox-list" aria-label="Inbox items">
            <For
                each=move || rows.get()
                key=|item| (item.id, item.unread)
                children=move |item| view! { <Row item now inbox/> }
            />
        </ol>
        {move || next().map(|cursor| view! {
            <button
                class="button load-more"
                type="button"
                on:click=move |_| inbox.load_more(cursor.clone(), rows.get_untracked())
            >
                "Load more"
            </button>
        })}
    }
}

fn empty_state(filtered: bool) -> AnyView {
    if filtered {
        return view! {
            <div class="empty-state" data-testid="inbox-empty">
                <h2>"Nothing matches"</h2>
                <p>"No open item matches these filters."</p>
            </div>
        }
        .into_any();
    }
    view! {
        <div class="empty-state" data-testid="inbox-empty">
            <h2>"Your inbox is clear"</h2>
            <p>
                "Mail, messages, calls and meetings arrive here. Connect Gmail in "
                <a href="/settings">"Settings"</a>
                ", and WhatsApp, SMS, calls and inbound mail in "
                <a href="/settings/channels">"Settings → Channels"</a> "."
            </p>
        </div>
    }
    .into_any()
}

#[component]
fn Row(item: InboxItem, now: DateTime<Utc>, inbox: Inbox) -> impl IntoView {
    let id = item.id;
    let selected = move || inbox.selected.get() == Some(id);
    let sender = item.sender.clone().map(|s| {
        let label = s.label().to_owned();
        let address = (label != s.address).then(|| s.address.clone());
        let name = match s.contact_id {
            Some(contact) => {
                view! { <a class="sender" href=format!("/contacts/{contact}")>{label}</a> }
                    .into_any()
            }
            None => view! { <span class="sender">{label}</span> }.into_any(),
        };
        view! {
            {name}
            {address.map(|a| view! { <span class="address muted">{a}</span> })}
        }
    });
    let headline = item.headline.clone();
    let done_headline = item.headline.clone();
    view! {
        <li
            class="inbox-row"
            class:unread=item.unread
            class:selected=selected
            tabindex="-1"
            data-inbox-row=id.to_string()
            data-channel=item.channel.as_str()
            aria-current=move || selected().then_some("true")
            on:focusin=move |_| inbox.selected.set(Some(id))
        >
            <span class=format!("channel channel-{}", item.channel) title=item.channel.label()>
                <span aria-hidden="true" class="channel-icon">{channel_icon(item.channel)}</span>
                " " {item.channel.label()}
            </span>
            <div class="inbox-body">
                <p class="inbox-from">
                    {sender}
                    {item.unread.then(|| view! { <span class="visually-hidden">" (unread)"</span> })}
                </p>
                <p class="headline">
                    <a
                        class="open-item"
                        href=item.href.clone()
                        on:click=move |_| inbox.opened(id)
                    >
                        {headline}
                    </a>
                </p>
                {item.snippet.clone().map(|s| view! { <p class="snippet muted">{s}</p> })}
            </div>
            <time class="muted" datetime=item.occurred_at.to_rfc3339() title=item.occurred_at.format("%e %b %Y, %H:%M UTC").to_string()>
                {relative_time(now, item.occurred_at)}
            </time>
            <div class="inbox-actions">
                <button class="button" type="button" data-testid="done" on:click=move |_| inbox.done(id, done_headline.clone())>"Done"</button>
                <button class="button" type="button" data-testid="dismiss" on:click=move |_| inbox.dismiss(id)>"Dismiss"</button>
            </div>
        </li>
    }
}

/// A small glyph per channel, beside its name (screen readers read the name).
fn channel_icon(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "✉",
        Channel::Whatsapp | Channel::Messenger | Channel::Instagram | Channel::Sms => "💬",
        Channel::Call => "☎",
        Channel::Meeting => "📅",
        Channel::File => "📎",
    }
}

/// j/k move the selection, Enter opens it, e marks it done, # or d dismisses it; keys
/// typed into a field are left alone.
fn keyboard(inbox: Inbox) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        use web_sys::HtmlElement;

        let handle = window_event_listener(leptos::ev::keydown, move |ev| {
            if ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
                return;
            }
            let target = ev.target().and_then(|t| t.dyn_into::<HtmlElement>().ok());
            let tag = target.as_ref().map(|el| el.tag_name()).unwrap_or_default();
            let typing = matches!(tag.as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                || target.as_ref().is_some_and(|el| el.is_content_editable());
            let Some(key) = Key::parse(&ev.key()).filter(|_| !typing) else {
                return;
            };
            // Enter on a button or link is that control's own.
            if key == Key::Open && matches!(tag.as_str(), "A" | "BUTTON") {
                return;
            }
            let mut rows: Vec<HtmlElement> = Vec::new();
            let mut row = document()
                .query_selector(".inbox-list")
                .ok()
                .flatten()
                .and_then(|list| list.first_element_child());
            while let Some(element) = row {
                row = element.next_element_sibling();
                if let Ok(element) = element.dyn_into::<HtmlElement>() {
                    rows.push(element);
                }
            }
            let ids: Vec<Uuid> = rows
                .iter()
                .filter_map(|r| r.get_attribute("data-inbox-row")?.parse().ok())
                .collect();
            let at = inbox
                .selected
                .get_untracked()
                .and_then(|s| ids.iter().position(|id| *id == s));
            let target = match key {
                Key::Next => Some(at.map_or(0, |i| (i + 1).min(ids.len().saturating_sub(1)))),
                Key::Previous => Some(at.map_or(0, |i| i.saturating_sub(1))),
                _ => None,
            };
            if let Some(i) = target {
                if let (Some(row), Some(id)) = (rows.get(i), ids.get(i)) {
                    ev.prevent_default();
                    inbox.selected.set(Some(*id));
                    // Focus shows the selection and scrolls it into view.
                    let _ = row.focus();
                }
                return;
            }
            let Some(i) = at else { return };
            let id = ids[i];
            ev.prevent_default();
            // The selection moves to the next row when this one leaves.
            let after = ids.get(i + 1).or(i.checked_sub(1).and_then(|p| ids.get(p)));
            match key {
                // The row's link navigates (through the router) and marks it read.
                Key::Open => {
                    if let Some(link) = rows[i]
                        .query_selector(".open-item")
                        .ok()
                        .flatten()
                        .and_then(|a| a.dyn_into::<HtmlElement>().ok())
                    {
                        link.click();
                    }
                }
                Key::Done | Key::Dismiss => {
                    if key == Key::Done {
                        let headline = rows[i]
                            .query_selector(".open-item")
                            .ok()
                            .flatten()
                            .and_then(|a| a.text_content())
                            .unwrap_or_default();
                        inbox.done(id, headline);
                    } else {
                        inbox.dismiss(id);
                    }
                    inbox.selected.set(after.copied());
                    if let Some(after) = after {
                        focus_row(*after, true);
                    }
                }
                Key::Next | Key::Previous => {}
            }
        });
        on_cleanup(move || handle.remove());
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = inbox;
    }
}

/// Focuses `id`'s row (which scrolls it into view); unless `always`, only when nothing
/// else has the focus.
#[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
fn focus_row(id: Uuid, always: bool) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let document = document();
        let idle = document
            .active_element()
            .is_none_or(|e| e.tag_name() == "BODY");
        if !(always || idle) {
            return;
        }
        if let Some(row) = document
            .query_selector(&format!("[data-inbox-row=\"{id}\"]"))
            .ok()
            .flatten()
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = row.focus();
        }
    }
}

/// What a key press asks of the inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Next,
    Previous,
    Open,
    Done,
    Dismiss,
}

impl Key {
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn parse(key: &str) -> Option<Self> {
        match key {
            "j" => Some(Self::Next),
            "k" => Some(Self::Previous),
            "Enter" => Some(Self::Open),
            "e" => Some(Self::Done),
            "#" | "d" => Some(Self::Dismiss),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: u128, minutes: i64) -> InboxItem {
        InboxItem {
            id: Uuid::from_u128(id),
            channel: Channel::Email,
            sender: None,
            headline: String::new(),
            snippet: None,
            occurred_at: DateTime::from_timestamp(1_800_000_000 + minutes * 60, 0).unwrap(),
            unread: false,
            href: String::new(),
        }
    }

    #[test]
    fn loaded_rows_follow_a_fresh_first_page_without_duplicates() {
        // Shown: 5, 4, 3 (first page) and 2, 1 (loaded); then 6 arrived, so the fresh
        // first page is 6, 5, 4 and 3 must still be shown, once.
        let shown = [item(5, 5), item(4, 4), item(3, 3), item(2, 2), item(1, 1)];
        let fresh = [item(6, 6), item(5, 5), item(4, 4)];
        let ids: Vec<u128> = merged(&fresh, &shown, &HashSet::new())
            .iter()
            .map(|i| i.id.as_u128())
            .collect();
        assert_eq!(ids, [6, 5, 4, 3, 2, 1]);

        let gone = HashSet::from([Uuid::from_u128(3)]);
        assert_eq!(merged(&fresh, &shown, &gone).len(), 5);
        assert_eq!(merged(&[], &shown, &gone).len(), 4);
    }

    #[test]
    fn keys_map_to_actions() {
        assert_eq!(Key::parse("j"), Some(Key::Next));
        assert_eq!(Key::parse("k"), Some(Key::Previous));
        assert_eq!(Key::parse("Enter"), Some(Key::Open));
        assert_eq!(Key::parse("e"), Some(Key::Done));
        assert_eq!(Key::parse("#"), Some(Key::Dismiss));
        assert_eq!(Key::parse("d"), Some(Key::Dismiss));
        assert_eq!(Key::parse("J"), None, "shift is not a shortcut");
    }
}
