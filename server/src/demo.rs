//! The demo's clock: its generated mailbox ends when the demo data folder was created,
//! so the mail looks current, and the moment is kept in the folder so a returning demo
//! user finds the same mailbox after a restart.

use std::io::Write;
use std::path::{Path, PathBuf};

use api::{Channel, Direction};
use chrono::{DateTime, Duration, SubsecRound, Utc};
use domain::channels::providers::parse_webhook;
use domain::channels::{ChannelDefaults, ChannelProvider, NewChannel};
use domain::db::Db;
use domain::users::UserId;
use fakes::mailbox::{Mailbox, MailboxSpec};
pub use fakes::webhooks::DemoWebhooks;
use fakes::webhooks::demo_webhooks;

/// The file in the data folder holding the anchor, an RFC 3339 timestamp.
pub const ANCHOR_FILE: &str = "demo-anchor";
/// Written by demo sign-ins; a folder that has it but no anchor predates anchors.
pub const GRANTS_FILE: &str = "demo-google-grants.json";

#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    #[error("demo anchor {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "demo anchor {} holds {text:?}, not an RFC 3339 timestamp; fix it, or delete the data folder to start a new demo",
        path.display()
    )]
    Corrupt { path: PathBuf, text: String },
}

/// The demo mailbox's end: read from `data_dir`, or `now` written there the first time.
///
/// `None` for a folder whose demo user connected before anchors existed: the mail it
/// imported has the fixed [`MailboxSpec::demo`] dates, and the fake keeps serving those.
pub fn load_or_create_anchor(
    data_dir: &Path,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, AnchorError> {
    let path = data_dir.join(ANCHOR_FILE);
    let io = |source| AnchorError::Io {
        path: path.clone(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => match DateTime::parse_from_rfc3339(text.trim()) {
            Ok(at) => Ok(Some(at.with_timezone(&Utc))),
            Err(_) => Err(AnchorError::Corrupt {
                path: path.clone(),
                text,
            }),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if data_dir.join(GRANTS_FILE).exists() {
                return Ok(None);
            }
            let anchor = now.trunc_subsecs(0);
            std::fs::create_dir_all(data_dir).map_err(io)?;
            write_atomically(&path, &anchor.to_rfc3339()).map_err(io)?;
            Ok(Some(anchor))
        }
        Err(e) => Err(io(e)),
    }
}

/// How old the newest demo mail is at the anchor: recent enough that "this week"
/// questions have answers, old enough to look like mail that arrived this morning.
const NEWEST_AGE: Duration = Duration::hours(3);

/// `spec` with its newest message [`NEWEST_AGE`] before `anchor`. The mail is planned
/// for a history ending at the anchor; its last message falls anywhere in the final day
/// or two (small mailboxes are sparse), so every date is then moved by the difference.
/// Deterministic: the same anchor always gives the same mailbox.
pub fn anchored(mut spec: MailboxSpec, anchor: DateTime<Utc>) -> MailboxSpec {
    spec.end = anchor;
    spec.moved_secs = 0;
    spec.moved_secs = (anchor - NEWEST_AGE - newest(&spec)).num_seconds();
    spec
}

fn newest(spec: &MailboxSpec) -> DateTime<Utc> {
    newest_in(&Mailbox::generate(spec))
}

fn newest_in(mailbox: &Mailbox) -> DateTime<Utc> {
    // Messages are indexed in time order.
    mailbox.message(mailbox.len() - 1).internal_date
}

/// Writes a temporary file next to `path` and renames it into place, so a crash never
/// leaves a half-written anchor that would stop the next start.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let temp = path.with_extension(format!("tmp-{}", std::process::id()));
    let mut file = std::fs::File::create(&temp)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&temp, path)
}

/// Starts the simulated Fastmail and calendar and plans the demo's WhatsApp and SMS
/// chats, all built on the people and the end date of the demo Gmail mailbox (a demo
/// from an mbox has no generated people: it gets the generated demo cast).
pub async fn start_providers(
    mailbox: &fakes::google::MailboxSource,
) -> anyhow::Result<(fakes::serve::RunningServer, DemoWebhooks)> {
    let spec = match mailbox {
        fakes::google::MailboxSource::Generated(spec) => spec.clone(),
        _ => MailboxSpec::demo(300),
    };
    let (truth, end) = tokio::task::spawn_blocking(move || {
        let mailbox = Mailbox::generate(&spec);
        (mailbox.truth(), newest_in(&mailbox) + NEWEST_AGE)
    })
    .await?;
    let server = fakes::demo_providers::start(&truth, end, 0).await?;
    tracing::info!(url = %server.base_url(), "demo mode: simulated Fastmail and calendar are running");
    Ok((server, demo_webhooks(&truth.owner.name, &truth.people, end)))
}

/// Gives a demo user who has no webhook channels a WhatsApp (TimelinesAI) and an SMS
/// (Twilio) channel holding the demo chats, parsed and stored the way real webhooks
/// are, so the inbox and timelines show more than mail from the first sign-in.
pub async fn seed_chats(db: &Db, user: UserId, chats: &DemoWebhooks) -> anyhow::Result<()> {
    let scope = db.for_user(user);
    if !scope.channels().list().await?.is_empty() {
        return Ok(());
    }
    let feeds = [
        (
            "WhatsApp (demo)",
            ChannelProvider::TimelinesAi,
            Channel::Whatsapp,
            &chats.whatsapp,
        ),
        (
            "SMS (demo)",
            ChannelProvider::Twilio,
            Channel::Sms,
            &chats.sms,
        ),
    ];
    for (name, provider, channel, bodies) in feeds {
        let defaults = ChannelDefaults {
            channel,
            direction: Direction::Inbound,
        };
        let new = NewChannel {
            name: name.to_owned(),
            provider,
            defaults,
        };
        let (view, key) = scope.channels().create(&new).await?;
        let auth = db.authorize_channel(view.id, key.expose()).await?;
        for (at, body) in bodies {
            let webhook = parse_webhook(provider, defaults, body.as_bytes(), *at)?;
            scope.channels().ingest_webhook(&auth, &webhook).await?;
        }
    }
    Ok(())
}

/// What Settings fills in to connect the simulated Fastmail, calendar and Page.
pub fn logins(
    server: &fakes::serve::RunningServer,
    meta_page: api::shop::DemoPage,
) -> api::settings::DemoLogins {
    use fakes::demo_providers::{CALDAV_PASSWORD, CALDAV_USER, FASTMAIL_TOKEN, SESSION_PATH};
    api::settings::DemoLogins {
        jmap_session_url: format!("{}{SESSION_PATH}", server.base_url()),
        jmap_token: FASTMAIL_TOKEN.to_owned(),
        caldav_url: format!("{}/dav/", server.base_url()),
        caldav_user: CALDAV_USER.to_owned(),
        caldav_password: CALDAV_PASSWORD.to_owned(),
        meta_page,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 3, hour, 15, 30).unwrap()
    }

    #[test]
    fn the_first_start_writes_the_anchor_and_later_starts_read_it() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let first = load_or_create_anchor(&data, at(9)).unwrap();
        assert_eq!(first, Some(at(9)));
        assert_eq!(
            std::fs::read_to_string(data.join(ANCHOR_FILE)).unwrap(),
            "2026-12-03T09:15:30+00:00"
        );
        let later = load_or_create_anchor(&data, at(20)).unwrap();
        assert_eq!(later, first);
        let names: Vec<_> = std::fs::read_dir(&data).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn a_corrupt_anchor_stops_the_start() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(ANCHOR_FILE), "yesterday").unwrap();
        let error = load_or_create_anchor(dir.path(), at(9)).unwrap_err();
        assert!(matches!(error, AnchorError::Corrupt { .. }), "{error:?}");
        assert!(error.to_string().contains("\"yesterday\""), "{error}");
        assert_eq!(
            std::fs::read_to_string(dir.path().join(ANCHOR_FILE)).unwrap(),
            "yesterday",
            "the file is left for the user to inspect"
        );
    }

    #[test]
    fn a_folder_connected_before_anchors_keeps_its_fixed_dates() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(GRANTS_FILE), "{}").unwrap();
        assert_eq!(load_or_create_anchor(dir.path(), at(9)).unwrap(), None);
        assert!(!dir.path().join(ANCHOR_FILE).exists());
    }

    #[test]
    fn the_newest_demo_mail_is_a_few_hours_old_at_the_anchor() {
        for messages in [300, 1000, 3000] {
            for hours in (0..7 * 24).step_by(5) {
                let anchor = at(9) + Duration::hours(hours);
                let spec = anchored(MailboxSpec::demo(messages), anchor);
                let age = anchor - newest(&spec);
                assert!(
                    (age - NEWEST_AGE).abs() < Duration::seconds(1),
                    "{messages} messages at {anchor}: newest {age} old"
                );
                assert_eq!(
                    spec,
                    anchored(MailboxSpec::demo(messages), anchor),
                    "deterministic"
                );
            }
        }
    }
}
