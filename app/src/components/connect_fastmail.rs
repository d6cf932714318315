//! "Connect Fastmail" on the Settings page: a JMAP session URL (Fastmail's by default)
//! with an API token, or a user name and password for other JMAP servers. The server
//! checks the credential against the session resource before storing anything, and
//! queues the first sync.

use leptos::prelude::*;
use uuid::Uuid;

use crate::app_error::AppError;

/// Fastmail's JMAP session resource.
pub const FASTMAIL_SESSION_URL: &str = "https://api.fastmail.com/jmap/session";

/// Connects (or reconnects) a Fastmail / JMAP account and queues its first sync.
#[server]
pub async fn connect_fastmail(
    session_url: String,
    token: Option<String>,
    user: Option<String>,
    password: Option<String>,
) -> Result<String, AppError> {
    use domain::jmap::{FastmailConnect, HttpJmap};

    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let form = FastmailConnect::parse(
            &session_url,
            token.as_deref().unwrap_or_default(),
            user.as_deref().unwrap_or_default(),
            password.as_deref().unwrap_or_default(),
        )?;
        let accounts = ctx.scope().accounts();
        let account = accounts
            .connect_fastmail(&HttpJmap::default(), &form, &ctx.app.secrets)
            .await?;
        accounts.request_jmap_poll(account).await?;
        Ok("Connected. The first sync has started.".to_owned())
    })
    .await
}

/// Polls a Fastmail account now.
#[server]
pub async fn poll_fastmail(account_id: Uuid) -> Result<String, AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let queued = ctx.scope().accounts().request_jmap_poll(account_id).await?;
        Ok(if queued {
            "Sync queued.".to_owned()
        } else {
            "A sync of this account is already queued or running.".to_owned()
        })
    })
    .await
}

#[component]
pub fn ConnectFastmail(
    /// Demo mode's simulated Fastmail, filled in so connecting it is one click.
    demo: Option<api::settings::DemoLogins>,
) -> impl IntoView {
    let session_url = demo.as_ref().map_or_else(
        || FASTMAIL_SESSION_URL.to_owned(),
        |d| d.jmap_session_url.clone(),
    );
    let token = demo
        .as_ref()
        .map(|d| d.jmap_token.clone())
        .unwrap_or_default();
    let demo_note = demo.is_some().then(|| {
        view! { <p class="demo-note">"Demo mode: the simulated Fastmail account is filled in."</p> }
    });
    let connect = ServerAction::<ConnectFastmail>::new();
    let answer = move || {
        connect.value().get().map(|result| match result {
            Ok(message) => view! { <p class="notice" role="status">{message}</p> }.into_any(),
            Err(e) => {
                view! { <p class="form-error" role="alert">{e.user_message()}</p> }.into_any()
            }
        })
    };
    view! {
        <section class="card" id="connect-fastmail" aria-labelledby="connect-fastmail-heading">
            <h2 id="connect-fastmail-heading">"Connect Fastmail"</h2>
            <p class="muted">
                "Rapport reads your Inbox and Sent mail over JMAP. At Fastmail, create an API token under "
                "Settings → Privacy & Security → API tokens with mail access. For another JMAP server, "
                "give its session URL with your user name and password instead."
            </p>
            {demo_note}
            <ActionForm action=connect attr:class="inline-form">
                <label>
                    "Session URL"
                    <input type="url" name="session_url" value=session_url required/>
                </label>
                <label>
                    "API token"
                    <input type="password" name="token" autocomplete="off" value=token/>
                </label>
                <p class="muted">"Or, for other JMAP servers:"</p>
                <label>
                    "User name"
                    <input type="text" name="user" autocomplete="username"/>
                </label>
                <label>
                    "Password"
                    <input type="password" name="password" autocomplete="current-password"/>
                </label>
                <button class="button primary" type="submit">"Connect"</button>
            </ActionForm>
            {answer}
        </section>
    }
}

/// "Sync now" for a Fastmail account.
#[component]
pub fn PollFastmailButton(account: Uuid) -> impl IntoView {
    let poll = ServerAction::<PollFastmail>::new();
    let answer = move || {
        poll.value().get().map(|result| match result {
            Ok(message) => view! { <p class="notice" role="status">{message}</p> }.into_any(),
            Err(e) => {
                view! { <p class="form-error" role="alert">{e.user_message()}</p> }.into_any()
            }
        })
    };
    view! {
        <ActionForm action=poll attr:class="inline-form">
            <input type="hidden" name="account_id" value=account.to_string()/>
            <button class="button" type="submit">"Sync now"</button>
        </ActionForm>
        {answer}
    }
}
