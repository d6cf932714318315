//! Settings → API tokens (`/settings/tokens`): personal tokens for the Notes API. A token
//! is shown once, in the answer to the action that made it; the list shows only its
//! first characters, when it was last used, and lets the user revoke it.

use api::settings::{ApiTokenView, IssuedApiToken};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use uuid::Uuid;

use crate::app_error::AppError;
use crate::errors::ErrorPanel;

#[server]
pub async fn load_api_tokens() -> Result<Vec<ApiTokenView>, AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        Ok(ctx.scope().api_tokens().list().await?)
    })
    .await
}

#[server]
pub async fn create_api_token(name: String) -> Result<IssuedApiToken, AppError> {
    use domain::api_tokens::TokenName;

    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let name = TokenName::parse(&name)?;
        let (summary, token) = ctx.scope().api_tokens().create(&name).await?;
        Ok(token.issued(summary))
    })
    .await
}

#[server]
pub async fn revoke_api_token(token_id: Uuid) -> Result<(), AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        Ok(ctx.scope().api_tokens().revoke(token_id).await?)
    })
    .await
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%e %b %Y, %H:%M UTC").to_string()
}

#[component]
pub fn ApiTokensPage() -> impl IntoView {
    let create = ServerAction::<CreateApiToken>::new();
    let revoke = ServerAction::<RevokeApiToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| load_api_tokens(),
    );
    let issued = move || {
        create.value().get().map(|result| match result {
            Ok(issued) => view! {
                <div class="card notice key-once" role="status">
                    <p><strong>"Copy this token now: it is shown only once."</strong></p>
                    <p>{issued.name} ": " <code class="api-token">{issued.token}</code></p>
                    <p class="muted">"Send it as " <code>"Authorization: Bearer <token>"</code> " to " <code>"/api/v1/…"</code> "."</p>
                </div>
            }
            .into_any(),
            Err(e) => view! { <p class="form-error" role="alert">{e.user_message()}</p> }.into_any(),
        })
    };
    let revoke_failed = move || {
        revoke
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| view! { <p class="form-error" role="alert">{e.user_message()}</p> })
    };
    view! {
        <Title text="API tokens"/>
        <section class="page">
            <header class="page-header">
                <h1>"API tokens"</h1>
                <a href="/settings">"Back to Settings"</a>
            </header>
            <p class="muted">
                "A token lets an agent or a script read your contacts' activities and write notes "
                "through the Notes API, as you. Notes it writes carry the token's name. Revoke a token "
                "and it stops working at once."
            </p>
            {issued}
            {revoke_failed}
            <section class="card">
                <h2>"New token"</h2>
                <ActionForm action=create attr:class="inline-form">
                    <label>"Name" <input name="name" required maxlength="80" placeholder="Meeting summariser"/></label>
                    <button class="button primary" type="submit">"Create token"</button>
                </ActionForm>
            </section>
            <Transition fallback=|| view! { <p class="muted">"Loading tokens…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                    {move || Suspend::new(async move {
                        tokens.await.map(|tokens| view! { <TokenList tokens revoke/> })
                    })}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

#[component]
fn TokenList(tokens: Vec<ApiTokenView>, revoke: ServerAction<RevokeApiToken>) -> impl IntoView {
    if tokens.is_empty() {
        return view! { <p class="muted">"No tokens yet."</p> }.into_any();
    }
    view! {
        <table class="api-tokens">
            <thead>
                <tr><th>"Name"</th><th>"Token"</th><th>"Created"</th><th>"Last used"</th><th>"Status"</th></tr>
            </thead>
            <tbody>
                {tokens.into_iter().map(|t| {
                    let status = match t.revoked_at {
                        Some(at) => view! { <span class="badge status-disabled">"revoked " {when(at)}</span> }.into_any(),
                        None => view! {
                            <ActionForm action=revoke attr:class="inline-form">
                                <input type="hidden" name="token_id" value=t.id.to_string()/>
                                <button class="button" type="submit">"Revoke"</button>
                            </ActionForm>
                        }.into_any(),
                    };
                    view! {
                        <tr class="api-token-row" data-token-id=t.id.to_string()>
                            <td>{t.name}</td>
                            <td><code>{t.display_prefix} "…"</code></td>
                            <td>{when(t.created_at)}</td>
                            <td>{t.last_used_at.map(when).unwrap_or_else(|| "Never".into())}</td>
                            <td>{status}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
