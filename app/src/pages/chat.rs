//! A chat conversation (WhatsApp, SMS, Messenger, Instagram) as a chat: the messages of
//! the thread the opened one belongs to, oldest first, sent ones on the right, each with
//! its time and attachments; a group chat names the sender of every message.

use api::Direction;
use api::calls::{ChatMessage, ChatThread};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use uuid::Uuid;

use crate::app_error::AppError;
use crate::errors::LoadError;

#[server]
pub async fn load_chat(activity: Uuid) -> Result<ChatThread, AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        Ok(ctx.scope().calls().chat(activity).await?)
    })
    .await
}

/// Where a chat message's conversation opens.
pub fn chat_href(activity: Uuid) -> String {
    format!("/chats/{activity}")
}

#[component]
pub fn ChatPage() -> impl IntoView {
    let params = use_params_map();
    let id =
        Memo::new(move |_| params.with(|p| p.get("id").and_then(|id| id.parse::<Uuid>().ok())));
    let chat = Resource::new(
        move || id.get(),
        |id| async move {
            match id {
                Some(id) => load_chat(id).await,
                None => {
                    crate::errors::set_status(404);
                    Err(AppError::not_found("chat"))
                }
            }
        },
    );
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading chat…"</p> }>
            {move || Suspend::new(async move {
                match chat.await {
                    Ok(chat) => view! { <ChatView chat/> }.into_any(),
                    Err(error) => view! { <LoadError error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ChatView(chat: ChatThread) -> impl IntoView {
    let count = chat.messages.len();
    let group = chat.group;
    let opened = chat.opened;
    view! {
        <Title text=chat.title.clone()/>
        <section class="page chat-page" data-testid="chat">
            <header class="page-header">
                <div>
                    <p class="breadcrumb"><a href="/timeline">"Timeline"</a></p>
                    <h1>{chat.title.clone()}</h1>
                    <p class="muted">
                        {chat.channel.to_string()} " · "
                        {if count == 1 { "1 message".to_owned() } else { format!("{count} messages") }}
                        {group.then_some(" · group chat")}
                    </p>
                </div>
            </header>
            <ol class="chat-messages">
                {chat
                    .messages
                    .into_iter()
                    .map(|message| {
                        let is_opened = message.id == opened;
                        view! { <Bubble message group is_opened/> }
                    })
                    .collect_view()}
            </ol>
        </section>
    }
}

#[component]
fn Bubble(message: ChatMessage, group: bool, is_opened: bool) -> impl IntoView {
    let sent = message.direction == Some(Direction::Outbound);
    let sender = (group || !sent).then(|| {
        view! { <p class="chat-sender" data-testid="chat-sender">{message.sender.clone()}</p> }
    });
    let attachments = (!message.attachments.is_empty()).then(|| {
        view! {
            <ul class="chat-attachments">
                {message
                    .attachments
                    .into_iter()
                    .map(|a| {
                        let label = a
                            .name
                            .clone()
                            .or(a.content_type.clone())
                            .unwrap_or_else(|| "attachment".to_owned());
                        match a.url {
                            Some(href) => view! {
                                <li><a href=href target="_blank" rel="noopener noreferrer">{label}</a></li>
                            }
                            .into_any(),
                            None => view! { <li>{label}</li> }.into_any(),
                        }
                    })
                    .collect_view()}
            </ul>
        }
    });
    view! {
        <li
            class="chat-message"
            class:sent=sent
            class:opened=is_opened
            id=format!("message-{}", message.id)
            data-testid="chat-message"
            aria-current=is_opened.then_some("true")
        >
            {sender}
            {message.text.map(|t| view! { <p class="chat-text">{t}</p> })}
            {attachments}
            <time class="muted" datetime=message.occurred_at.to_rfc3339()>
                {message.occurred_at.format("%e %b %Y, %H:%M UTC").to_string()}
            </time>
        </li>
    }
}
