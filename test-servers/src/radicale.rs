//! Radicale (CalDAV) in a virtual environment under `target/`.
//!
//! [`Radicale::start`] runs `python -m radicale` from `target/radicale-venv` (or
//! `$RAPPORT_RADICALE_VENV`) with its storage in a temporary folder, on a free
//! 127.0.0.1 port, with htpasswd (plain) users so wrong passwords are refused, and
//! `owner_only` rights. It is killed when dropped. The helpers make calendars and put or
//! delete events the way a calendar app would, for tests and benchmarks.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

/// How long Radicale may take to answer after it was started.
const START_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, thiserror::Error)]
pub enum RadicaleError {
    #[error("Radicale is not installed at {0} (run .ci/setup.sh, or set RAPPORT_RADICALE_VENV)")]
    NotInstalled(PathBuf),
    #[error("could not start Radicale: {0}")]
    Io(#[from] std::io::Error),
    #[error("Radicale did not answer on {addr} within {START_TIMEOUT:?}; its log: {log}")]
    NotAnswering { addr: SocketAddr, log: String },
    #[error("Radicale request failed: {0}")]
    Http(#[from] reqwest::Error),
    #[error("Radicale answered {status} to {method} {path}")]
    Status {
        method: String,
        path: String,
        status: reqwest::StatusCode,
    },
}

/// A running Radicale. Stopped (killed) on drop; its storage folder goes with it.
#[derive(Debug)]
pub struct Radicale {
    _child: Child,
    addr: SocketAddr,
    http: reqwest::Client,
    dir: tempfile::TempDir,
}

/// A user Radicale knows, with the password it accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RadicaleUser {
    pub name: String,
    pub password: String,
}

impl Radicale {
    /// The virtual environment: `$RAPPORT_RADICALE_VENV`, else the workspace's
    /// `target/radicale-venv` that `.ci/setup.sh` installs.
    pub fn venv() -> PathBuf {
        std::env::var_os("RAPPORT_RADICALE_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/radicale-venv")
            })
    }

    /// Starts Radicale with these users and waits until it accepts connections.
    pub async fn start(users: &[RadicaleUser]) -> Result<Self, RadicaleError> {
        let python = Self::venv().join("bin/python");
        if !python.exists() {
            return Err(RadicaleError::NotInstalled(python));
        }
        let dir = tempfile::tempdir()?;
        let users_file = dir.path().join("users");
        let lines: String = users
            .iter()
            .map(|u| format!("{}:{}\n", u.name, u.password))
            .collect();
        std::fs::write(&users_file, lines)?;
        let addr = free_port()?;
        let config = dir.path().join("config");
        std::fs::write(
            &config,
            format!(
                "[server]\nhosts = {addr}\n\
                 [auth]\ntype = htpasswd\nhtpasswd_filename = {users}\n\
                 htpasswd_encryption = plain\ndelay = 0\n\
                 [rights]\ntype = owner_only\n\
                 [storage]\nfilesystem_folder = {storage}\n\
                 [logging]\nlevel = warning\n",
                users = users_file.display(),
                storage = dir.path().join("collections").display(),
            ),
        )?;
        // Its log goes to a file, quoted when it does not come up.
        let log = dir.path().join("radicale.log");
        let child = Command::new(python)
            .args(["-m", "radicale", "--config"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .kill_on_drop(true)
            .spawn()?;
        let server = Self {
            _child: child,
            addr,
            http: reqwest::Client::new(),
            dir,
        };
        server.wait_until_answering().await?;
        Ok(server)
    }

    async fn wait_until_answering(&self) -> Result<(), RadicaleError> {
        let deadline = Instant::now() + START_TIMEOUT;
        let mut pause = Duration::from_millis(20);
        while Instant::now() < deadline {
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(200));
        }
        let log = std::fs::read_to_string(self.dir.path().join("radicale.log")).unwrap_or_default();
        Err(RadicaleError::NotAnswering {
            addr: self.addr,
            log,
        })
    }

    /// `http://127.0.0.1:PORT/`: where a client starts discovery.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// The URL of a path on this server (`/alice/work/`).
    pub fn url_of(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Creates the calendar `/USER/NAME/` (MKCALENDAR with a display name) and returns
    /// its path.
    pub async fn make_calendar(
        &self,
        user: &RadicaleUser,
        name: &str,
        display_name: &str,
    ) -> Result<String, RadicaleError> {
        let path = format!("/{}/{name}/", user.name);
        let body = format!(
            r#"<?xml version="1.0" encoding="utf-8"?>
<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:set><D:prop>
    <D:displayname>{display_name}</D:displayname>
    <C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set>
  </D:prop></D:set>
</C:mkcalendar>"#
        );
        self.send(user, "MKCALENDAR", &path, Some(body), "application/xml")
            .await?;
        Ok(path)
    }

    /// Puts (creates or replaces) `ics` at `CALENDAR/NAME.ics`; returns the new ETag.
    pub async fn put_event(
        &self,
        user: &RadicaleUser,
        calendar: &str,
        name: &str,
        ics: &str,
    ) -> Result<String, RadicaleError> {
        let path = format!("{calendar}{name}.ics");
        let response = self
            .send(
                user,
                "PUT",
                &path,
                Some(ics.to_owned()),
                "text/calendar; charset=utf-8",
            )
            .await?;
        Ok(response
            .headers()
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned())
    }

    /// Deletes `CALENDAR/NAME.ics`.
    pub async fn delete_event(
        &self,
        user: &RadicaleUser,
        calendar: &str,
        name: &str,
    ) -> Result<(), RadicaleError> {
        let path = format!("{calendar}{name}.ics");
        self.send(user, "DELETE", &path, None, "text/plain").await?;
        Ok(())
    }

    async fn send(
        &self,
        user: &RadicaleUser,
        method: &str,
        path: &str,
        body: Option<String>,
        content_type: &str,
    ) -> Result<reqwest::Response, RadicaleError> {
        let verb =
            reqwest::Method::from_bytes(method.as_bytes()).map_err(|_| RadicaleError::Status {
                method: method.to_owned(),
                path: path.to_owned(),
                status: reqwest::StatusCode::BAD_REQUEST,
            })?;
        let mut request = self
            .http
            .request(verb, self.url_of(path))
            .basic_auth(&user.name, Some(&user.password))
            .header(reqwest::header::CONTENT_TYPE, content_type);
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await?;
        if !response.status().is_success() {
            return Err(RadicaleError::Status {
                method: method.to_owned(),
                path: path.to_owned(),
                status: response.status(),
            });
        }
        Ok(response)
    }
}

/// A port nothing listens on right now (the OS picks it; Radicale binds it next).
fn free_port() -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    listener.local_addr()
}
