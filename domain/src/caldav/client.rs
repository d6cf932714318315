//! The CalDAV client: the four calls a sync needs behind [`CalDavApi`], and
//! [`HttpCalDav`], which sends them with reqwest and HTTP Basic auth (user name + app
//! password). The exact requests are listed in the module doc of [`super`].

use std::time::Duration;

use reqwest::{Method, StatusCode, Url, header};

use super::CalDavError;
use super::ical::Window;
use super::xml::{self, APPLE, CALDAV, CALSERVER, DAV};

/// Objects asked for in one `calendar-multiget`.
pub const MULTIGET_CHUNK: usize = 100;

/// A calendar that can hold events, as discovery finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarInfo {
    /// The server's path of the collection (`/alice/work/`).
    pub href: String,
    pub display_name: Option<String>,
    pub color: Option<String>,
    pub state: CalendarState,
}

/// The collection's change markers: when neither changed, nothing in it did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CalendarState {
    pub ctag: Option<String>,
    pub sync_token: Option<String>,
}

impl CalendarState {
    /// Whether the server gave a marker to compare at all.
    pub fn is_known(&self) -> bool {
        self.ctag.is_some() || self.sync_token.is_some()
    }
}

/// One event resource: its href, ETag and iCalendar text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarObject {
    pub href: String,
    pub etag: String,
    pub data: String,
}

/// What a calendar sync asks of a CalDAV server. Real: [`HttpCalDav`]; tests wrap it to
/// count requests, and demo mode serves it from an in-process fake.
pub trait CalDavApi: Send + Sync {
    /// current-user-principal -> calendar-home-set -> the calendars that hold VEVENTs.
    fn discover(&self) -> impl Future<Output = Result<Vec<CalendarInfo>, CalDavError>> + Send;

    /// The calendar's ctag and sync-token (one PROPFIND, Depth 0).
    fn calendar_state(
        &self,
        calendar: &str,
    ) -> impl Future<Output = Result<CalendarState, CalDavError>> + Send;

    /// `(href, etag)` of every event overlapping the window (calendar-query).
    fn etags(
        &self,
        calendar: &str,
        window: &Window,
    ) -> impl Future<Output = Result<Vec<(String, String)>, CalDavError>> + Send;

    /// The objects at these hrefs (calendar-multiget); ones deleted meanwhile are left
    /// out.
    fn multiget(
        &self,
        calendar: &str,
        hrefs: &[String],
    ) -> impl Future<Output = Result<Vec<CalendarObject>, CalDavError>> + Send;
}

/// Where and as whom to connect.
#[derive(Clone)]
pub struct CalDavCredentials {
    pub server_url: Url,
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for CalDavCredentials {
    /// Never prints the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CalDavCredentials")
            .field("server_url", &self.server_url.as_str())
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl CalDavCredentials {
    /// Checks the URL (http or https, with a host) and that user and password are set.
    pub fn new(server_url: &str, user: &str, password: &str) -> Result<Self, CalDavError> {
        let url = Url::parse(server_url.trim())
            .map_err(|e| CalDavError::InvalidUrl(format!("{}: {e}", server_url.trim())))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(CalDavError::InvalidUrl(format!(
                "{}: must be an http(s) address",
                server_url.trim()
            )));
        }
        if user.trim().is_empty() || password.is_empty() {
            return Err(CalDavError::MissingCredentials);
        }
        Ok(Self {
            server_url: url,
            user: user.trim().to_owned(),
            password: password.to_owned(),
        })
    }
}

#[derive(Clone, Debug)]
pub struct HttpCalDav {
    http: reqwest::Client,
    credentials: CalDavCredentials,
}

impl HttpCalDav {
    pub fn new(http: reqwest::Client, credentials: CalDavCredentials) -> Self {
        Self { http, credentials }
    }

    /// A client with timeouts fit for a poll.
    pub fn default_client() -> reqwest::Client {
        reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap_or_default()
    }

    fn url(&self, href: &str) -> Result<Url, CalDavError> {
        self.credentials
            .server_url
            .join(href)
            .map_err(|e| CalDavError::InvalidUrl(format!("{href}: {e}")))
    }

    /// Sends one WebDAV request and returns the body of a 207 (or 200) answer.
    async fn dav(
        &self,
        method: &str,
        href: &str,
        depth: &str,
        body: String,
    ) -> Result<String, CalDavError> {
        let method = Method::from_bytes(method.as_bytes())
            .map_err(|e| CalDavError::InvalidUrl(e.to_string()))?;
        let url = self.url(href)?;
        let response = self
            .http
            .request(method, url.clone())
            .basic_auth(&self.credentials.user, Some(&self.credentials.password))
            .header("Depth", depth)
            .header(header::CONTENT_TYPE, "application/xml; charset=utf-8")
            .body(body)
            .send()
            .await
            .map_err(CalDavError::Transport)?;
        let status = response.status();
        if status == StatusCode::MULTI_STATUS || status == StatusCode::OK {
            return response.text().await.map_err(CalDavError::Transport);
        }
        Err(refused(&response, &url))
    }

    async fn propfind_href(
        &self,
        href: &str,
        body: &str,
        ns: &str,
        name: &str,
    ) -> Result<Option<String>, CalDavError> {
        let text = self.dav("PROPFIND", href, "0", body.to_owned()).await?;
        let doc = xml::parse(&text)?;
        Ok(xml::responses(&doc)?
            .iter()
            .find_map(|r| r.href_in(ns, name)))
    }
}

fn retry_after(headers: &header::HeaderMap) -> Option<Duration> {
    headers
        .get(header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
        .map(Duration::from_secs)
}

impl HttpCalDav {
    /// Discovery's three PROPFINDs.
    async fn discover_calendars(&self) -> Result<Vec<CalendarInfo>, CalDavError> {
        let start = self.credentials.server_url.path().to_owned();
        let principal = self
            .propfind_href(&start, xml::PRINCIPAL_BODY, DAV, "current-user-principal")
            .await?
            .ok_or_else(|| CalDavError::NotCalDav("it names no current-user-principal".into()))?;
        let home = self
            .propfind_href(&principal, xml::HOME_SET_BODY, CALDAV, "calendar-home-set")
            .await?
            .ok_or_else(|| {
                CalDavError::NotCalDav("the principal has no calendar-home-set".into())
            })?;
        let text = self
            .dav("PROPFIND", &home, "1", xml::CALENDARS_BODY.to_owned())
            .await?;
        let doc = xml::parse(&text)?;
        Ok(xml::responses(&doc)?
            .iter()
            .filter(|r| r.has_child(DAV, "resourcetype", CALDAV, "calendar"))
            .filter(|r| {
                // No component set means every component is allowed.
                r.prop(CALDAV, "supported-calendar-component-set")
                    .is_none_or(|set| {
                        set.children().all(|c| !c.is_element())
                            || set.children().any(|c| {
                                c.attribute("name")
                                    .is_some_and(|n| n.eq_ignore_ascii_case("VEVENT"))
                            })
                    })
            })
            .map(|r| CalendarInfo {
                href: r.href.clone(),
                display_name: r.text(DAV, "displayname"),
                color: r.text(APPLE, "calendar-color"),
                state: CalendarState {
                    ctag: r.text(CALSERVER, "getctag"),
                    sync_token: r.text(DAV, "sync-token"),
                },
            })
            .collect())
    }
}

impl CalDavApi for HttpCalDav {
    async fn discover(&self) -> Result<Vec<CalendarInfo>, CalDavError> {
        self.discover_calendars().await.map_err(|e| match e {
            // A web page, a 404 or a 405 where WebDAV should answer: a wrong address.
            CalDavError::Xml(m) => CalDavError::NotCalDav(m),
            CalDavError::Status { status, path } => {
                CalDavError::NotCalDav(format!("{path} answered {status} to PROPFIND"))
            }
            other => other,
        })
    }

    async fn calendar_state(&self, calendar: &str) -> Result<CalendarState, CalDavError> {
        let text = self
            .dav("PROPFIND", calendar, "0", xml::CALENDARS_BODY.to_owned())
            .await?;
        let doc = xml::parse(&text)?;
        let responses = xml::responses(&doc)?;
        let response = responses
            .first()
            .ok_or_else(|| CalDavError::Xml("PROPFIND answered no response".into()))?;
        Ok(CalendarState {
            ctag: response.text(CALSERVER, "getctag"),
            sync_token: response.text(DAV, "sync-token"),
        })
    }

    async fn etags(
        &self,
        calendar: &str,
        window: &Window,
    ) -> Result<Vec<(String, String)>, CalDavError> {
        let format = "%Y%m%dT%H%M%SZ";
        let body = xml::calendar_query_body(
            &window.start.format(format).to_string(),
            &window.end.format(format).to_string(),
        );
        let text = self.dav("REPORT", calendar, "1", body).await?;
        let doc = xml::parse(&text)?;
        Ok(xml::responses(&doc)?
            .into_iter()
            .filter(|r| !r.gone)
            .filter_map(|r| Some((r.href.clone(), r.text(DAV, "getetag")?)))
            .collect())
    }

    async fn multiget(
        &self,
        calendar: &str,
        hrefs: &[String],
    ) -> Result<Vec<CalendarObject>, CalDavError> {
        let mut objects = Vec::with_capacity(hrefs.len());
        for chunk in hrefs.chunks(MULTIGET_CHUNK) {
            let text = self
                .dav("REPORT", calendar, "1", xml::multiget_body(chunk))
                .await?;
            let doc = xml::parse(&text)?;
            objects.extend(
                xml::responses(&doc)?
                    .into_iter()
                    .filter(|r| !r.gone)
                    .filter_map(|r| {
                        Some(CalendarObject {
                            href: r.href.clone(),
                            etag: r.text(DAV, "getetag")?,
                            data: r.text(CALDAV, "calendar-data")?,
                        })
                    }),
            );
        }
        Ok(objects)
    }
}

/// Writing one event resource (the write-back of the user's own calendar events).
impl HttpCalDav {
    /// PUTs `ics` at `href`: over the version with `etag` (`If-Match`), or only where
    /// nothing is yet (`If-None-Match: *`) without one. Returns the new ETag, when the
    /// server sends it. A changed or unexpected resource is a 412 ([`CalDavError::Status`]).
    pub async fn put_object(
        &self,
        href: &str,
        ics: &str,
        etag: Option<&str>,
    ) -> Result<Option<String>, CalDavError> {
        let url = self.url(href)?;
        let request = self
            .http
            .put(url.clone())
            .basic_auth(&self.credentials.user, Some(&self.credentials.password))
            .header(header::CONTENT_TYPE, "text/calendar; charset=utf-8")
            .body(ics.to_owned());
        let request = match etag {
            Some(etag) => request.header(header::IF_MATCH, etag),
            None => request.header(header::IF_NONE_MATCH, "*"),
        };
        let response = request.send().await.map_err(CalDavError::Transport)?;
        let status = response.status();
        if status.is_success() {
            return Ok(etag_of(&response));
        }
        Err(refused(&response, &url))
    }

    /// DELETEs `href` (with `If-Match` when its ETag is known); one already gone is fine.
    pub async fn delete_object(&self, href: &str, etag: Option<&str>) -> Result<(), CalDavError> {
        let url = self.url(href)?;
        let mut request = self
            .http
            .delete(url.clone())
            .basic_auth(&self.credentials.user, Some(&self.credentials.password));
        if let Some(etag) = etag {
            request = request.header(header::IF_MATCH, etag);
        }
        let response = request.send().await.map_err(CalDavError::Transport)?;
        let status = response.status();
        if status.is_success() || status == StatusCode::NOT_FOUND {
            return Ok(());
        }
        Err(refused(&response, &url))
    }

    /// The ETag the resource at `href` has now; `None` when there is none.
    pub async fn current_etag(&self, href: &str) -> Result<Option<String>, CalDavError> {
        let url = self.url(href)?;
        let response = self
            .http
            .head(url.clone())
            .basic_auth(&self.credentials.user, Some(&self.credentials.password))
            .send()
            .await
            .map_err(CalDavError::Transport)?;
        let status = response.status();
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if status.is_success() {
            return Ok(etag_of(&response));
        }
        Err(refused(&response, &url))
    }
}

/// The error for a response the server answered with a failure status.
fn refused(response: &reqwest::Response, url: &reqwest::Url) -> CalDavError {
    CalDavError::from_status(
        response.status(),
        retry_after(response.headers()),
        url.path(),
    )
}

/// The response's `ETag`, when it has one.
fn etag_of(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}
