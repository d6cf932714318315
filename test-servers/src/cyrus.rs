//! Cyrus IMAP with its HTTP daemon serving JMAP (and CalDAV).
//!
//! [`Cyrus::start`] writes `imapd.conf` and `cyrus.conf` into a fresh temporary folder,
//! picks free 127.0.0.1 ports for IMAP, HTTP (`httpmodules: caldav carddav jmap`) and
//! LMTP, and runs `master` in the foreground as a child. Users live in the folder's own
//! sasldb; [`Cyrus::add_user`] adds one, creates its mailbox as the admin over IMAP and
//! gives it a `Sent` mailbox (JMAP role `sent`). [`Cyrus::append`] seeds messages over a
//! raw IMAP connection (pipelined `APPEND` with non-synchronizing literals, so 10,000
//! messages take seconds). Dropping the value stops `master` and removes the folder.
//!
//! Run as root (CI containers), `master` drops to the `cyrus` user: the folder is
//! chowned to `cyrus:mail` before it starts and after every sasldb change.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const BIN: &str = "/usr/lib/cyrus/bin";
const ADMIN: &str = "admin";
/// `servername` and the sasldb realm: users' addresses are `name@localhost`.
pub const DOMAIN: &str = "localhost";
const START_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, thiserror::Error)]
pub enum CyrusError {
    #[error("Cyrus is not installed (missing {0}); run .ci/setup.sh")]
    NotInstalled(String),
    #[error("could not prepare the Cyrus folder: {0}")]
    Io(#[from] std::io::Error),
    #[error("{command} failed: {output}")]
    Command { command: String, output: String },
    #[error("Cyrus did not answer on port {port} within {seconds} s; its log:\n{log}")]
    NotReady {
        port: u16,
        seconds: u64,
        log: String,
    },
    #[error("IMAP {command} failed: {response}")]
    Imap { command: String, response: String },
    #[error("JMAP request failed: {0}")]
    Jmap(String),
}

/// A mail user of the test server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CyrusUser {
    /// The login name (`alice`).
    pub name: String,
    pub password: String,
}

impl CyrusUser {
    /// The user's address: `name@localhost`.
    pub fn address(&self) -> String {
        format!("{}@{DOMAIN}", self.name)
    }
}

/// A running Cyrus; stopped and deleted on drop.
#[derive(Debug)]
pub struct Cyrus {
    dir: tempfile::TempDir,
    master: Child,
    imap_port: u16,
    http_port: u16,
    lmtp_port: u16,
    admin_password: String,
}

impl Cyrus {
    /// Starts a new instance and waits until IMAP and HTTP answer (about half a second).
    pub async fn start() -> Result<Self, CyrusError> {
        for tool in [format!("{BIN}/master"), format!("{BIN}/httpd")] {
            if !Path::new(&tool).exists() {
                return Err(CyrusError::NotInstalled(tool));
            }
        }
        let dir = tempfile::Builder::new()
            .prefix("rapport-cyrus-")
            .tempdir()?;
        let root = dir.path().to_path_buf();
        for sub in [
            "conf",
            "conf/socket",
            "conf/proc",
            "conf/lock",
            "spool",
            "sieve",
        ] {
            std::fs::create_dir_all(root.join(sub))?;
        }
        let (imap_port, http_port, lmtp_port) = (free_port()?, free_port()?, free_port()?);
        std::fs::write(root.join("imapd.conf"), imapd_conf(&root))?;
        std::fs::write(
            root.join("cyrus.conf"),
            cyrus_conf(&root, imap_port, http_port, lmtp_port),
        )?;
        let admin_password = format!("admin-{}", std::process::id());
        set_password(&root, ADMIN, &admin_password)?;
        own(&root)?;
        let log = std::fs::File::create(root.join("master.log"))?;
        // Its own process group: on shutdown master signals its whole group, which
        // would otherwise include every other Cyrus this test binary runs.
        let master = Command::new(format!("{BIN}/master"))
            .process_group(0)
            .arg("-C")
            .arg(root.join("imapd.conf"))
            .arg("-M")
            .arg(root.join("cyrus.conf"))
            .arg("-p")
            .arg(root.join("master.pid"))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        let cyrus = Self {
            dir,
            master,
            imap_port,
            http_port,
            lmtp_port,
            admin_password,
        };
        cyrus.wait_ready(imap_port).await?;
        cyrus.wait_ready(http_port).await?;
        Ok(cyrus)
    }

    /// Connects until the service greets (IMAP) or accepts (HTTP).
    async fn wait_ready(&self, port: u16) -> Result<(), CyrusError> {
        let started = Instant::now();
        loop {
            if let Ok(stream) = TcpStream::connect(("127.0.0.1", port)).await {
                if port != self.imap_port {
                    return Ok(());
                }
                let mut lines = BufReader::new(stream);
                let mut greeting = String::new();
                if lines.read_line(&mut greeting).await.is_ok() && greeting.starts_with("* OK") {
                    return Ok(());
                }
            }
            if started.elapsed() > START_TIMEOUT {
                return Err(CyrusError::NotReady {
                    port,
                    seconds: START_TIMEOUT.as_secs(),
                    log: std::fs::read_to_string(self.dir.path().join("master.log"))
                        .unwrap_or_default(),
                });
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub fn imap_port(&self) -> u16 {
        self.imap_port
    }

    pub fn lmtp_port(&self) -> u16 {
        self.lmtp_port
    }

    /// `http://127.0.0.1:PORT`
    pub fn http_base(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    /// The JMAP session resource (RFC 8620 §2), answered with HTTP Basic auth.
    pub fn session_url(&self) -> String {
        format!("{}/jmap/", self.http_base())
    }

    /// Adds a user with a mailbox (`user/NAME`, created by the admin over IMAP) and a
    /// `Sent` mailbox with the JMAP role `sent`.
    pub async fn add_user(&self, name: &str, password: &str) -> Result<CyrusUser, CyrusError> {
        let root = self.dir.path();
        set_password(root, name, password)?;
        own(root)?;
        let mut admin = Imap::login(self.imap_port, ADMIN, &self.admin_password).await?;
        admin.command(&format!("CREATE user/{name}")).await?;
        admin.logout().await;
        let user = CyrusUser {
            name: name.to_owned(),
            password: password.to_owned(),
        };
        self.create_mailbox(&user, "Sent", Some("sent")).await?;
        Ok(user)
    }

    /// Creates a top-level mailbox for `user` through JMAP `Mailbox/set` (plain IMAP
    /// users cannot create top-level folders in Cyrus's default namespace). Returns its
    /// JMAP id.
    pub async fn create_mailbox(
        &self,
        user: &CyrusUser,
        name: &str,
        role: Option<&str>,
    ) -> Result<String, CyrusError> {
        let body = format!(
            r#"{{"using":["urn:ietf:params:jmap:core","urn:ietf:params:jmap:mail"],
                "methodCalls":[["Mailbox/set",{{"accountId":"{account}","create":{{"m":{{"name":"{name}","role":{role}}}}}}},"0"]]}}"#,
            account = user.name,
            role = role.map_or("null".to_owned(), |r| format!("\"{r}\"")),
        );
        let response = self.jmap_post(user, &body).await?;
        let marker = r#""created":{"m":{"id":""#;
        let id = response
            .find(marker)
            .map(|at| &response[at + marker.len()..])
            .and_then(|rest| rest.split('"').next())
            .ok_or_else(|| {
                CyrusError::Jmap(format!("Mailbox/set did not create {name}: {response}"))
            })?;
        Ok(id.to_owned())
    }

    /// A raw JMAP API call as `user` (HTTP/1.1 over a plain socket, Basic auth).
    pub async fn jmap_post(&self, user: &CyrusUser, body: &str) -> Result<String, CyrusError> {
        let auth = base64_encode(format!("{}:{}", user.name, user.password).as_bytes());
        let request = format!(
            "POST /jmap/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic {auth}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let mut stream = TcpStream::connect(("127.0.0.1", self.http_port)).await?;
        stream.write_all(request.as_bytes()).await?;
        let mut response = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut stream, &mut response).await?;
        let text = String::from_utf8_lossy(&response).into_owned();
        if !text.starts_with("HTTP/1.1 200") {
            return Err(CyrusError::Jmap(text));
        }
        Ok(text)
    }

    /// Appends messages to `user`'s `mailbox` (`INBOX`, `Sent`, ...) over one IMAP
    /// connection, pipelined. `flags` like `\Seen` apply to every message.
    pub async fn append(
        &self,
        user: &CyrusUser,
        mailbox: &str,
        messages: &[Vec<u8>],
        flags: &[&str],
    ) -> Result<(), CyrusError> {
        let mut imap = Imap::login(self.imap_port, &user.name, &user.password).await?;
        imap.append_all(mailbox, messages, flags).await?;
        imap.logout().await;
        Ok(())
    }

    /// Changes a user's password (a stale credential for 401 tests).
    pub fn set_password(&self, user: &CyrusUser, password: &str) -> Result<(), CyrusError> {
        let root = self.dir.path();
        set_password(root, &user.name, password)?;
        own(root)
    }

    pub fn folder(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Cyrus {
    /// SIGTERM lets `master` stop its services; SIGKILL after two seconds. The folder
    /// goes with the `TempDir`. During a panic, the log is printed first.
    fn drop(&mut self) {
        // A failing test shows what Cyrus said.
        if std::thread::panicking() {
            let log = std::fs::read_to_string(self.dir.path().join("master.log"));
            eprintln!("Cyrus log:\n{}", log.unwrap_or_default());
        }
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.master.id().to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if matches!(self.master.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.master.kill();
        let _ = self.master.wait();
    }
}

/// A minimal IMAP client: login, tagged commands, pipelined appends.
pub struct Imap {
    stream: BufReader<TcpStream>,
    tag: u32,
}

impl Imap {
    pub async fn login(port: u16, user: &str, password: &str) -> Result<Self, CyrusError> {
        let stream = TcpStream::connect(("127.0.0.1", port)).await?;
        let mut imap = Self {
            stream: BufReader::new(stream),
            tag: 0,
        };
        let mut greeting = String::new();
        imap.stream.read_line(&mut greeting).await?;
        imap.command(&format!("LOGIN {} {}", quote(user), quote(password)))
            .await?;
        Ok(imap)
    }

    /// Sends one command and reads to its tagged answer; anything but OK is an error.
    pub async fn command(&mut self, command: &str) -> Result<Vec<String>, CyrusError> {
        self.tag += 1;
        let tag = format!("a{}", self.tag);
        self.stream
            .get_mut()
            .write_all(format!("{tag} {command}\r\n").as_bytes())
            .await?;
        let mut untagged = Vec::new();
        loop {
            let line = self.read_line().await?;
            if let Some(status) = line.strip_prefix(&format!("{tag} ")) {
                if status.starts_with("OK") {
                    return Ok(untagged);
                }
                let shown = command.split(' ').next().unwrap_or_default().to_owned();
                return Err(CyrusError::Imap {
                    command: shown,
                    response: status.to_owned(),
                });
            }
            untagged.push(line);
        }
    }

    async fn read_line(&mut self) -> Result<String, CyrusError> {
        let mut line = String::new();
        if self.stream.read_line(&mut line).await? == 0 {
            return Err(CyrusError::Imap {
                command: "read".to_owned(),
                response: "connection closed".to_owned(),
            });
        }
        Ok(line.trim_end().to_owned())
    }

    /// APPENDs every message with LITERAL+ (`{n+}`), writing in chunks while a reader
    /// task collects the tagged answers.
    pub async fn append_all(
        &mut self,
        mailbox: &str,
        messages: &[Vec<u8>],
        flags: &[&str],
    ) -> Result<(), CyrusError> {
        const WINDOW: usize = 200;
        let flags = if flags.is_empty() {
            String::new()
        } else {
            format!("({}) ", flags.join(" "))
        };
        for window in messages.chunks(WINDOW) {
            let mut batch = Vec::new();
            let first = self.tag + 1;
            for message in window {
                self.tag += 1;
                batch.extend_from_slice(
                    format!(
                        "a{} APPEND {} {flags}{{{}+}}\r\n",
                        self.tag,
                        quote(mailbox),
                        message.len()
                    )
                    .as_bytes(),
                );
                batch.extend_from_slice(message);
                batch.extend_from_slice(b"\r\n");
            }
            self.stream.get_mut().write_all(&batch).await?;
            let mut answered = 0;
            while answered < window.len() {
                let line = self.read_line().await?;
                let Some(rest) = line.strip_prefix('a') else {
                    continue;
                };
                let (tag, status) = rest.split_once(' ').unwrap_or((rest, ""));
                if tag
                    .parse::<u32>()
                    .is_ok_and(|t| t >= first && t <= self.tag)
                {
                    if !status.starts_with("OK") {
                        return Err(CyrusError::Imap {
                            command: "APPEND".to_owned(),
                            response: status.to_owned(),
                        });
                    }
                    answered += 1;
                }
            }
        }
        Ok(())
    }

    pub async fn logout(mut self) {
        let _ = self.command("LOGOUT").await;
    }
}

fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn imapd_conf(root: &Path) -> String {
    let conf = root.join("conf");
    let d = |p: &str| conf.join(p).display().to_string();
    format!(
        "configdirectory: {conf}\n\
         partition-default: {spool}\n\
         proc_path: {proc}\n\
         mboxname_lockpath: {lock}\n\
         lmtpsocket: {lmtp}\n\
         idlesocket: {idle}\n\
         notifysocket: {notify}\n\
         sievedir: {sieve}\n\
         servername: {DOMAIN}\n\
         admins: {ADMIN}\n\
         unixhierarchysep: yes\n\
         allowplaintext: yes\n\
         sasl_pwcheck_method: auxprop\n\
         sasl_auxprop_plugin: sasldb\n\
         sasl_sasldb_path: {sasldb}\n\
         sasl_mech_list: PLAIN LOGIN\n\
         httpmodules: caldav carddav jmap\n\
         httpallowcompress: no\n\
         conversations: yes\n\
         conversations_db: twoskip\n\
         jmap_max_objects_in_get: 1000\n\
         jmap_max_calls_in_request: 64\n\
         jmap_max_concurrent_requests: 32\n\
         syslog_prefix: rapport-cyrus\n",
        conf = conf.display(),
        spool = root.join("spool").display(),
        proc = d("proc"),
        lock = d("lock"),
        lmtp = d("socket/lmtp"),
        idle = d("socket/idle"),
        notify = d("socket/notify"),
        sieve = root.join("sieve").display(),
        sasldb = sasldb(root).display(),
    )
}

fn cyrus_conf(root: &Path, imap: u16, http: u16, lmtp: u16) -> String {
    let conf = root.join("imapd.conf");
    let c = conf.display();
    format!(
        "START {{\n}}\n\
         SERVICES {{\n\
           imap cmd=\"{BIN}/imapd -C {c}\" listen=\"127.0.0.1:{imap}\" prefork=0\n\
           http cmd=\"{BIN}/httpd -C {c}\" listen=\"127.0.0.1:{http}\" prefork=0\n\
           lmtp cmd=\"{BIN}/lmtpd -a -C {c}\" listen=\"127.0.0.1:{lmtp}\" prefork=0\n\
         }}\n\
         EVENTS {{\n}}\n"
    )
}

fn sasldb(root: &Path) -> PathBuf {
    root.join("sasldb2")
}

fn set_password(root: &Path, user: &str, password: &str) -> Result<(), CyrusError> {
    use std::io::Write;
    let mut child = Command::new("saslpasswd2")
        .arg("-p")
        .arg("-c")
        .arg("-f")
        .arg(sasldb(root))
        .arg("-u")
        .arg(DOMAIN)
        .arg(user)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| CyrusError::NotInstalled(format!("saslpasswd2 ({e})")))?;
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(password.as_bytes())?;
    let output = child.wait_with_output()?;
    if !output.status.success() {
        return Err(CyrusError::Command {
            command: "saslpasswd2".to_owned(),
            output: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    Ok(())
}

/// Hands the folder to `cyrus:mail` when running as root (master drops to `cyrus`).
fn own(root: &Path) -> Result<(), CyrusError> {
    let root_user = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.trim_ascii() == b"0")
        .unwrap_or(false);
    if !root_user {
        return Ok(());
    }
    let output = Command::new("chown")
        .arg("-R")
        .arg("cyrus:mail")
        .arg(root)
        .output()?;
    if !output.status.success() {
        return Err(CyrusError::Command {
            command: "chown".to_owned(),
            output: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    Ok(())
}

fn base64_encode(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc_examples() {
        assert_eq!(base64_encode(b"f"), "Zg==");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_encode(b"foo"), "Zm9v");
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_user_gets_inbox_and_sent_and_seeded_mail_over_jmap() {
        let cyrus = Cyrus::start().await.unwrap();
        let alice = cyrus.add_user("alice", "secret-a").await.unwrap();
        // Cyrus's JMAP ids are content hashes: identical bytes would be one email.
        let message = |n: u32| {
            format!(
                "From: Bob <bob@example.com>\r\nTo: alice@localhost\r\nSubject: hi {n}\r\n\
                 Message-ID: <{n}@example.com>\r\nDate: Mon, 1 Dec 2025 10:00:00 +0000\r\n\r\nHello\r\n"
            )
            .into_bytes()
        };
        cyrus
            .append(&alice, "INBOX", &[message(1), message(2)], &[])
            .await
            .unwrap();
        let mailboxes = cyrus
            .jmap_post(
                &alice,
                r#"{"using":["urn:ietf:params:jmap:core","urn:ietf:params:jmap:mail"],
                    "methodCalls":[["Mailbox/get",{"accountId":"alice","properties":["name","role","totalEmails"]},"0"]]}"#,
            )
            .await
            .unwrap();
        assert!(mailboxes.contains(r#""role":"inbox""#), "{mailboxes}");
        assert!(mailboxes.contains(r#""role":"sent""#), "{mailboxes}");
        assert!(mailboxes.contains(r#""totalEmails":2"#), "{mailboxes}");
        let folder = cyrus.folder().to_path_buf();
        drop(cyrus);
        assert!(!folder.exists());
    }
}
