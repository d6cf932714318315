//! A Twilio channel's recording settings: the account SID and auth token recordings are
//! fetched with (the token is write-only: it is never shown again), and the last error
//! a download met, such as refused credentials.

use api::calls::RecordingSettingsView;
use leptos::prelude::*;
use uuid::Uuid;

use crate::app_error::AppError;

#[server]
pub async fn recording_settings(channel_id: Uuid) -> Result<RecordingSettingsView, AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        Ok(ctx.scope().calls().recording_settings(channel_id).await?)
    })
    .await
}

#[server]
pub async fn save_recording_credentials(
    channel_id: Uuid,
    account_sid: String,
    auth_token: String,
) -> Result<RecordingSettingsView, AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        Ok(ctx
            .scope()
            .calls()
            .set_recording_credentials(channel_id, &account_sid, &auth_token, &ctx.app.secrets)
            .await?)
    })
    .await
}

#[component]
pub fn ChannelRecordings(channel_id: Uuid) -> impl IntoView {
    let save = ServerAction::<SaveRecordingCredentials>::new();
    let settings = Resource::new(
        move || save.version().get(),
        move |_| recording_settings(channel_id),
    );
    let save_error = move || {
        save.value()
            .get()
            .and_then(Result::err)
            .map(|e| view! { <p class="form-error" role="alert">{e.user_message()}</p> })
    };
    view! {
        <details class="recording-settings">
            <summary>"Call recordings"</summary>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    settings.await.ok().map(|s| view! {
                        {s.last_error.clone().map(|e| view! {
                            <p class="activity-error" role="alert" data-testid="recording-error">{e}</p>
                        })}
                        <p class="muted">
                            {if s.has_auth_token {
                                format!("Recordings are fetched as {}.", s.account_sid.clone().unwrap_or_default())
                            } else {
                                "Add the Twilio account SID and auth token to fetch call recordings.".to_owned()
                            }}
                        </p>
                    })
                })}
            </Transition>
            <ActionForm action=save attr:class="stack">
                <input type="hidden" name="channel_id" value=channel_id.to_string()/>
                <label>"Account SID" <input name="account_sid" required placeholder="AC…" autocomplete="off"/></label>
                <label>"Auth token" <input name="auth_token" type="password" required autocomplete="off"/></label>
                <button class="button" type="submit">"Save"</button>
            </ActionForm>
            {save_error}
        </details>
    }
}
