//! The simulated Fastmail (JMAP) and calendar (CalDAV) accounts of demo mode, served
//! together on one port and built on the demo Gmail mailbox's people, so the same
//! contacts appear on every channel. The enrichment APIs (People Data Labs, Clearbit,
//! X) are served there too, knowing the same people.

use std::io;

use chrono::{DateTime, Utc};

use crate::caldav;
pub use crate::jmap::SESSION_PATH;
use crate::jmap::{self, JmapAddress};
use crate::mailbox::GroundTruth;
use crate::serve::RunningServer;

/// The demo Fastmail address; also the Basic user for other JMAP clients.
pub const FASTMAIL_USER: &str = "alex.morgan@fastmail.com";
/// The demo Fastmail API token (Bearer).
pub const FASTMAIL_TOKEN: &str = "fmu1-demo-rapport-0000";
pub const FASTMAIL_PASSWORD: &str = "demo-fastmail-password";
pub const CALDAV_USER: &str = "alex";
pub const CALDAV_PASSWORD: &str = "demo-calendar-password";

/// Starts both fakes on `127.0.0.1:{port}` (0 for any): the JMAP session is at
/// `{base}/jmap/session`, the CalDAV server at `{base}/dav/`.
pub async fn start(
    truth: &GroundTruth,
    end: DateTime<Utc>,
    port: u16,
) -> io::Result<RunningServer> {
    let mail = jmap::demo_account(
        JmapAddress {
            name: Some(truth.owner.name.clone()),
            email: FASTMAIL_USER.to_owned(),
        },
        FASTMAIL_TOKEN,
        FASTMAIL_PASSWORD,
        &truth.people,
        end,
    );
    let calendar = caldav::demo_account(
        CALDAV_USER,
        CALDAV_PASSWORD,
        &truth.owner.name,
        &truth.owner.email,
        &truth.people,
        end,
    );
    let enrichment = crate::enrichment::EnrichmentWorld::from_truth(truth, end);
    RunningServer::start("demo providers", port, move |base_url| {
        jmap::router(base_url, vec![mail])
            .merge(caldav::router(vec![calendar]))
            .merge(crate::enrichment::demo_router(enrichment))
    })
    .await
}
