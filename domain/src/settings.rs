//! The settings and welcome pages' rows ([`api::settings`]), built from the accounts,
//! their sync state and ledger, and the recent jobs. The caller reads those (each read
//! has its own error handling); these functions only shape them.

use api::LedgerOutcome;
use api::settings::{AccountProgress, AccountRow, ReconcileView, SyncView};

use crate::accounts::AccountSummary;
use crate::processing::ContactPolicy;
use crate::sync::{SyncAccount, SyncProgress};

/// The stage shown before a sync has reported any progress.
const WAITING: &str = "waiting";

/// What the page calls an account: its display name, else its provider's id for it.
fn label(account: &AccountSummary) -> String {
    account
        .display_name
        .clone()
        .unwrap_or_else(|| account.external_id.clone())
}

fn stage(progress: Option<&SyncProgress>) -> String {
    progress.map_or(WAITING, |p| p.stage.as_str()).to_owned()
}

/// A Gmail account's sync: its progress, the ledger's `outcomes` and the last reconcile.
pub fn sync_view(sync: SyncAccount, outcomes: Vec<(LedgerOutcome, i64)>) -> SyncView {
    let progress = sync.state.progress;
    SyncView {
        stage: stage(progress.as_ref()),
        done: progress.as_ref().map_or(0, |p| p.done),
        total: progress.as_ref().and_then(|p| p.total),
        rate: progress.as_ref().map_or(0.0, |p| p.rate),
        last_success_at: progress.as_ref().and_then(|p| p.last_success_at),
        last_error: progress.and_then(|p| p.last_error),
        outcomes,
        reconcile: sync.state.reconcile.map(|r| ReconcileView {
            checked_at: r.checked_at,
            gmail_messages: r.gmail_messages,
            missing: r.missing,
            extra: r.extra,
        }),
    }
}

/// One connected source on the settings page.
pub fn account_row(
    account: AccountSummary,
    sync: Option<SyncView>,
    imported: Vec<(LedgerOutcome, i64)>,
    contact_policy: ContactPolicy,
) -> AccountRow {
    AccountRow {
        contact_policy: contact_policy.as_str().to_owned(),
        id: account.id,
        label: label(&account),
        provider: account.provider,
        scopes: account.scopes,
        status: account.status,
        last_error: account.last_error,
        last_synced_at: account.last_synced_at,
        sync,
        imported,
    }
}

/// A Gmail account's first import on the welcome page; `ledger` is its outcome counts.
pub fn account_progress(
    account: &AccountSummary,
    sync: SyncAccount,
    ledger: Vec<(LedgerOutcome, i64)>,
) -> AccountProgress {
    let stored = ledger
        .into_iter()
        .filter(|(outcome, _)| *outcome == LedgerOutcome::Imported)
        .map(|(_, n)| u64::try_from(n).unwrap_or_default())
        .sum();
    let complete = sync.state.history_id.is_some();
    let progress = sync.state.progress;
    AccountProgress {
        id: account.id,
        label: label(account),
        status: account.status,
        stage: stage(progress.as_ref()),
        done: progress.as_ref().map_or(0, |p| p.done),
        total: progress.as_ref().and_then(|p| p.total),
        per_minute: progress.as_ref().map_or(0.0, |p| p.rate),
        people_seen: progress.as_ref().map_or(0, |p| p.people_seen),
        stored,
        complete,
        last_error: progress.and_then(|p| p.last_error),
    }
}
