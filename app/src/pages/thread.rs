//! Reading mail: the conversation an email belongs to, oldest message first, the opened
//! one marked. Plain text shows its quotes folded; HTML is shown in a sandboxed frame
//! (no scripts, no same-origin access) whose remote images stay blocked until the user
//! allows them for that message.

use api::mail::{Attachment, MessageBody, Person, RemoteImages, TextBlock, Thread, ThreadMessage};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use uuid::Uuid;

use crate::app_error::AppError;
use crate::errors::LoadError;

#[server]
pub async fn load_thread(activity: Uuid) -> Result<Thread, AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        Ok(ctx.scope().threads().thread_of(activity).await?)
    })
    .await
}

/// Loads `activity`'s remote images from now on (tracking pixels included).
#[server]
pub async fn allow_remote_images(activity: Uuid) -> Result<(), AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        Ok(ctx.scope().threads().allow_remote_images(activity).await?)
    })
    .await
}

#[component]
pub fn ThreadPage() -> impl IntoView {
    let params = use_params_map();
    let id =
        Memo::new(move |_| params.with(|p| p.get("id").and_then(|id| id.parse::<Uuid>().ok())));
    let allow = ServerAction::<AllowRemoteImages>::new();
    let thread = Resource::new(
        move || (id.get(), allow.version().get()),
        |(id, _)| async move {
            match id {
                Some(id) => load_thread(id).await,
                None => {
                    crate::errors::set_status(404);
                    Err(AppError::not_found("email"))
                }
            }
        },
    );
    let allow_error = move || {
        allow
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| view! { <p class="form-error" role="alert">{e.user_message()}</p> })
    };
    view! {
        {allow_error}
        <Transition fallback=|| view! { <p class="muted">"Loading conversation…"</p> }>
            {move || Suspend::new(async move {
                match thread.await {
                    Ok(thread) => view! { <ThreadView thread allow/> }.into_any(),
                    Err(error) => view! { <LoadError error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ThreadView(thread: Thread, allow: ServerAction<AllowRemoteImages>) -> impl IntoView {
    let count = thread.messages.len();
    let opened = thread.opened;
    view! {
        <Title text=thread.subject.clone()/>
        <section class="page thread-page" data-testid="thread">
            <header class="page-header">
                <div>
                    <p class="breadcrumb"><a href="/timeline">"Timeline"</a></p>
                    <h1>{thread.subject.clone()}</h1>
                    <p class="muted">
                        {if count == 1 { "1 message".to_owned() } else { format!("{count} messages") }}
                    </p>
                </div>
            </header>
            <ol class="thread-messages">
                {thread
                    .messages
                    .into_iter()
                    .map(|message| {
                        let is_opened = message.id == opened;
                        view! { <MessageView message is_opened allow/> }
                    })
                    .collect_view()}
            </ol>
        </section>
    }
}

fn people(list: &[Person]) -> String {
    list.iter()
        .map(Person::label)
        .collect::<Vec<_>>()
        .join(", ")
}

#[component]
fn MessageView(
    message: ThreadMessage,
    is_opened: bool,
    allow: ServerAction<AllowRemoteImages>,
) -> impl IntoView {
    let id = message.id;
    let from = people(&message.from);
    let to = people(&message.to);
    let cc = people(&message.cc);
    let gmail = message.gmail_url.clone().map(|href| {
        view! {
            <a class="open-in-gmail" href=href target="_blank" rel="noopener noreferrer">
                "Open in Gmail"
            </a>
        }
    });
    view! {
        <li
            class="card thread-message"
            class:opened=is_opened
            id=format!("message-{id}")
            data-testid="thread-message"
            data-activity-id=id.to_string()
            aria-current=is_opened.then_some("true")
        >
            <header class="message-header">
                <dl class="message-meta">
                    <dt>"From"</dt>
                    <dd data-testid="message-from">{if from.is_empty() { "(unknown sender)".to_owned() } else { from }}</dd>
                    {(!to.is_empty()).then(|| view! { <dt>"To"</dt> <dd data-testid="message-to">{to}</dd> })}
                    {(!cc.is_empty()).then(|| view! { <dt>"Cc"</dt> <dd data-testid="message-cc">{cc}</dd> })}
                    <dt>"Date"</dt>
                    <dd>
                        <time datetime=message.occurred_at.to_rfc3339()>
                            {message.occurred_at.format("%a %e %b %Y, %H:%M UTC").to_string()}
                        </time>
                    </dd>
                </dl>
                {gmail}
            </header>
            <Body body=message.body.clone() id allow/>
            <Attachments list=message.attachments.clone()/>
        </li>
    }
}

#[component]
fn Body(body: MessageBody, id: Uuid, allow: ServerAction<AllowRemoteImages>) -> impl IntoView {
    match body {
        MessageBody::Html {
            html_src,
            remote_images,
        } => {
            let notice = (remote_images == RemoteImages::Blocked).then(|| {
                view! {
                    <p class="remote-images-blocked" role="status" data-testid="remote-images-blocked">
                        "Remote images are blocked in this message: loading them tells the sender you read it. "
                        <button
                            type="button"
                            class="secondary"
                            data-testid="allow-remote-images"
                            disabled=move || allow.pending().get()
                            on:click=move |_| {
                                allow.dispatch(AllowRemoteImages { activity: id });
                            }
                        >
                            "Show images"
                        </button>
                    </p>
                }
            });
            view! {
                {notice}
                // No allow-scripts and no allow-same-origin: the mail runs nothing and
                // cannot reach this page or its cookies. Links open in a new tab.
                <iframe
                    class="mail-frame"
                    title="Message"
                    sandbox="allow-popups allow-popups-to-escape-sandbox"
                    referrerpolicy="no-referrer"
                    src=html_src
                    data-testid="mail-frame"
                    data-remote-images=match remote_images {
                        RemoteImages::None => "none",
                        RemoteImages::Blocked => "blocked",
                        RemoteImages::Allowed => "allowed",
                    }
                ></iframe>
            }
            .into_any()
        }
        MessageBody::Text(blocks) => view! {
            <div class="message-text" data-testid="message-text">
                {blocks
                    .into_iter()
                    .map(|block| match block {
                        TextBlock::Said(text) => view! { <p class="said">{text}</p> }.into_any(),
                        TextBlock::Quoted(text) => view! {
                            <details class="quote">
                                <summary>"Quoted text"</summary>
                                <blockquote>{text}</blockquote>
                            </details>
                        }
                        .into_any(),
                    })
                    .collect_view()}
            </div>
        }
        .into_any(),
        MessageBody::Empty => view! { <p class="muted">"(no text)"</p> }.into_any(),
    }
}

/// `1.2 MB`, `34 KB`, `512 bytes`.
fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1_000_000 => format!("{:.1} MB", b as f64 / 1_000_000.0),
        b if b >= 1_000 => format!("{} KB", b / 1_000),
        b => format!("{b} bytes"),
    }
}

#[component]
fn Attachments(list: Vec<Attachment>) -> impl IntoView {
    (!list.is_empty()).then(|| {
        view! {
            <section class="attachments" aria-label="Attachments">
                <h2>"Attachments"</h2>
                <ul>
                    {list
                        .into_iter()
                        .map(|a| {
                            let name = a.filename.unwrap_or_else(|| "(unnamed)".to_owned());
                            view! {
                                <li data-testid="attachment">
                                    <span class="attachment-name">{name}</span>
                                    <span class="muted">{format!(" · {} · {}", a.content_type, size(a.size))}</span>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
                <p class="muted">"Attachments stay with your mail provider; open the message there to download them."</p>
            </section>
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(size(512), "512 bytes");
        assert_eq!(size(34_567), "34 KB");
        assert_eq!(size(1_234_567), "1.2 MB");
    }
}
