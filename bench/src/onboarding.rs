//! Time to first value: a new user signs in with a 10,000-message Gmail mailbox while
//! the fake Google enforces Gmail's per-user quota, and reads the contacts page (as a
//! browser would, reloading) until it lists at least 20 contacts. Timed from the start
//! of the sign-in (the consent and callback take a few milliseconds of it); the server
//! is a `server serve` child process with its default workers.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use sqlx::PgPool;

use crate::child::{ServerProcess, free_port};
use crate::client::{User, fake_google_with_quota, server_env};

pub struct Scale {
    pub messages: usize,
}

const OWNER: &str = "first.hour@example.com";
/// Contacts the page must list.
const WANTED: usize = 20;
/// The goal: that many contacts within this long.
const GOAL_S: f64 = 15.0;
/// Reloads of the contacts page, as often as an impatient user.
const RELOAD_EVERY: Duration = Duration::from_millis(250);
const GIVE_UP: Duration = Duration::from_secs(600);

pub async fn run(
    database_url: &str,
    scale: &Scale,
) -> anyhow::Result<(BTreeMap<String, f64>, String)> {
    let google = fake_google_with_quota(&[("First Hour", OWNER, scale.messages, 11)], true).await?;
    let data = tempfile::tempdir()?;
    let port = free_port()?;
    let address = format!("http://127.0.0.1:{port}");
    let env = server_env(database_url, data.path(), google.base_url(), port);
    let mut server = ServerProcess::start("serve", "server", &env, data.path())?;
    server
        .wait_healthy(&address, Duration::from_secs(60))
        .await?;
    let sql = PgPool::connect(database_url).await?;

    let started = Instant::now();
    let user = User::sign_in(&address, OWNER).await?;
    let signed_in = started.elapsed().as_secs_f64();
    let mut at_goal = None;
    let first_contacts = loop {
        server.ensure_running()?;
        let (status, html) = user.get("/contacts").await?;
        anyhow::ensure!(status == 200, "/contacts answered {status}");
        let shown = contact_rows(&html);
        let elapsed = started.elapsed();
        if at_goal.is_none() && elapsed.as_secs_f64() >= GOAL_S {
            at_goal = Some(shown);
        }
        if shown >= WANTED {
            break elapsed.as_secs_f64();
        }
        anyhow::ensure!(
            elapsed < GIVE_UP,
            "the contacts page listed {shown} contacts after {GIVE_UP:?}"
        );
        tokio::time::sleep(RELOAD_EVERY).await;
    };
    let stored: i64 = sqlx::query_scalar("select count(*) from activities")
        .fetch_one(&sql)
        .await?;
    server.stop(Duration::from_secs(30)).await?;
    sql.close().await;
    eprintln!(
        "onboarding: {WANTED} contacts listed {first_contacts:.1} s after the sign-in began ({stored} messages stored by then)"
    );
    let figures = BTreeMap::from([("onboarding.first_contacts_s".to_owned(), first_contacts)]);
    let at_goal = at_goal.map_or_else(|| format!("{WANTED} or more"), |shown| shown.to_string());
    let markdown = format!(
        "A new user signs in with a {}-message Gmail mailbox (the fake Google enforcing \
         Gmail's per-user quota of {} units/s) to the real server (`server serve`, default \
         workers); the contacts page is reloaded every {} ms until it lists {WANTED} \
         contacts. Timed from the start of the sign-in (which itself took {signed_in:.2} s).\n\n\
         | figure | value |\n|---|---|\n\
         | {WANTED} contacts on the page | **{first_contacts:.1} s** (goal {GOAL_S} s) |\n\
         | contacts listed at {GOAL_S} s | {at_goal} |\n\
         | messages stored when {WANTED} were listed | {stored} |\n",
        scale.messages,
        fakes::google::USER_UNITS_PER_SECOND,
        RELOAD_EVERY.as_millis(),
    );
    Ok((figures, markdown))
}

/// The contact rows of a contacts page.
fn contact_rows(html: &str) -> usize {
    html.matches("<tr data-contact-id=").count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_the_rows_of_the_contacts_table() {
        let html = r#"<table class="contacts"><thead><tr><th>Name</th></tr></thead><tbody>
            <tr data-contact-id="a"><td>Ada</td></tr><tr data-contact-id="b"><td>Bo</td></tr>
            </tbody></table>"#;
        assert_eq!(contact_rows(html), 2);
        assert_eq!(contact_rows("<p>No contacts yet</p>"), 0);
    }
}
