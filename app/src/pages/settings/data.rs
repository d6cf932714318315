//! The settings page's data: the server functions it reads and acts through.

#[cfg(feature = "ssr")]
use api::Provider;
use api::settings::SettingsData;
use leptos::prelude::*;
use uuid::Uuid;

use crate::app_error::AppError;
#[cfg(feature = "ssr")]
use crate::format::count;

/// The user, every connected account (read in one query, with its sync state, contact
/// policy and ledger counts) and the recent background jobs.
#[server]
pub async fn load_settings() -> Result<SettingsData, AppError> {
    use crate::ssr::{RequestContext, reported};
    use domain::settings::{account_row, sync_view};
    reported(async move {
        let ctx = RequestContext::current()?;
        let scope = ctx.scope();
        let (accounts, jobs) =
            tokio::try_join!(scope.sync().account_settings(), scope.jobs().recent(10))?;
        let accounts = accounts
            .into_iter()
            .map(|a| {
                let (sync, imported) = match a.account.provider {
                    Provider::Google => (Some(sync_view(a.sync, a.ledger)), Vec::new()),
                    Provider::Mbox | Provider::Fastmail => (None, a.ledger),
                    _ => (None, Vec::new()),
                };
                account_row(a.account, sync, imported, a.contact_policy)
            })
            .collect();
        Ok(SettingsData {
            email: ctx.user.email.clone(),
            name: ctx.user.name.clone(),
            demo: ctx.app.demo,
            demo_logins: ctx.app.demo_logins.clone(),
            accounts,
            jobs,
        })
    })
    .await
}

/// Queues a sync now ("full" forgets the cursor and re-reads the whole mailbox).
#[server]
pub async fn request_sync(account_id: Uuid, full: Option<bool>) -> Result<String, AppError> {
    use domain::sync::controls::SyncRequest;

    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let scope = ctx.scope();
        let answer = if full.unwrap_or(false) {
            scope.sync().request_full_resync(account_id).await
        } else {
            scope.sync().request_sync(account_id).await
        }?;
        Ok(match answer {
            SyncRequest::Queued => "Sync queued.".into(),
            SyncRequest::AlreadyRunning => {
                "A sync of this account is already queued or running.".into()
            }
        })
    })
    .await
}

/// Changes which correspondents of the account become contacts; past mail is processed
/// again under the new policy.
#[server]
pub async fn save_contact_policy(account_id: Uuid, policy: String) -> Result<String, AppError> {
    use domain::processing::ContactPolicy;

    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        let policy = ContactPolicy::parse(&policy)?;
        let queued = ctx
            .scope()
            .processing()
            .set_contact_policy(account_id, policy)
            .await?;
        Ok(if queued == 0 {
            "Contact policy saved.".into()
        } else {
            format!(
                "Contact policy saved; {} past messages are being processed again.",
                count(queued)
            )
        })
    })
    .await
}

/// Revokes the account's refresh token at Google, if it has one. The tokens are deleted
/// by the caller either way, and Google expires unused grants, so a failure is logged.
#[cfg(feature = "ssr")]
async fn revoke_at_google(ctx: &crate::ssr::RequestContext, account: Uuid) {
    if let Ok(Some(refresh)) = ctx
        .scope()
        .accounts()
        .google_refresh_token(account, &ctx.app.secrets)
        .await
        && let Err(error) = ctx.app.google.revoke(&refresh).await
    {
        tracing::warn!(%error, "revoking the Google token failed");
    }
}

/// Revokes Rapport's access at Google, forgets the tokens, and keeps or deletes what
/// was synced, as the user chose.
#[server]
pub async fn disconnect_account(
    account_id: Uuid,
    delete_data: Option<bool>,
) -> Result<(), AppError> {
    use domain::accounts::SyncedData;

    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        revoke_at_google(&ctx, account_id).await;
        let data = if delete_data.unwrap_or(false) {
            SyncedData::Delete
        } else {
            SyncedData::Keep
        };
        Ok(ctx.scope().accounts().disconnect(account_id, data).await?)
    })
    .await
}

/// Deletes the user and everything they own, after revoking Google access. The user
/// types their email to confirm.
#[server]
pub async fn delete_account(confirm_email: String) -> Result<(), AppError> {
    use crate::app_error::ErrorKind;
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        if confirm_email.trim().to_lowercase() != ctx.user.email {
            return Err(AppError::new(
                ErrorKind::Invalid,
                "Type your email address exactly to confirm.",
            )
            .with_field("confirm_email"));
        }
        let scope = ctx.scope();
        for account in scope.accounts().list().await? {
            revoke_at_google(&ctx, account.id).await;
        }
        scope.accounts().delete_user(&ctx.app.files).await?;
        leptos_axum::redirect("/login?deleted=1");
        Ok(())
    })
    .await
}
