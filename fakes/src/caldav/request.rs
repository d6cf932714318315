//! What a PROPFIND or REPORT body asks for.

use chrono::{DateTime, NaiveDateTime, Utc};
use quick_xml::events::Event;

/// The parts of a WebDAV request body the fake answers by.
#[derive(Debug, Default)]
pub(super) struct DavRequest {
    /// The root element's local name: `propfind`, `calendar-query`, ...
    pub(super) root: String,
    /// Requested properties as (namespace, local name); empty means all (`allprop` or
    /// an empty PROPFIND body).
    pub(super) props: Vec<(String, String)>,
    pub(super) hrefs: Vec<String>,
    /// A `time-range` filter's start and end.
    pub(super) time_range: (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
    pub(super) sync_token: Option<String>,
}

impl DavRequest {
    pub(super) fn parse(body: &str) -> Result<Self, String> {
        let mut request = DavRequest {
            root: "propfind".to_owned(),
            ..Default::default()
        };
        if body.trim().is_empty() {
            return Ok(request);
        }
        let mut reader = quick_xml::NsReader::from_str(body);
        reader.config_mut().trim_text(true);
        let mut stack: Vec<String> = Vec::new();
        let mut first = true;
        loop {
            let event = reader
                .read_resolved_event()
                .map_err(|e| format!("malformed XML body: {e}"))?;
            let (ns, event) = event;
            let empty = matches!(event, Event::Empty(_));
            match event {
                Event::Start(e) | Event::Empty(e) => {
                    let local = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                    let namespace = match ns {
                        quick_xml::name::ResolveResult::Bound(n) => {
                            String::from_utf8_lossy(n.as_ref()).into_owned()
                        }
                        _ => String::new(),
                    };
                    if first {
                        request.root = local.clone();
                        first = false;
                    }
                    if stack.last().is_some_and(|p| p == "prop") {
                        request.props.push((namespace, local.clone()));
                    }
                    if local == "time-range" {
                        let attribute = |name: &str| {
                            e.try_get_attribute(name)
                                .ok()
                                .flatten()
                                .and_then(|a| String::from_utf8(a.value.into_owned()).ok())
                                .and_then(|v| parse_utc(&v))
                        };
                        request.time_range = (attribute("start"), attribute("end"));
                    }
                    if !empty {
                        stack.push(local);
                    }
                }
                Event::End(_) => {
                    stack.pop();
                }
                Event::Text(t) => {
                    let text = t
                        .decode()
                        .map_err(|e| format!("bad text in XML body: {e}"))?;
                    let text = quick_xml::escape::unescape(&text)
                        .map_err(|e| format!("bad escape in XML body: {e}"))?
                        .into_owned();
                    match stack.last().map(String::as_str) {
                        Some("href") => request.hrefs.push(text),
                        Some("sync-token") => request.sync_token = Some(text),
                        _ => {}
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        Ok(request)
    }
}

fn parse_utc(value: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%SZ")
        .ok()
        .map(|n| n.and_utc())
}
