//! WebDAV multistatus bodies into plain values, and the request bodies the client sends.
//! Pure. Properties are matched by namespace and local name, so any prefix works.

use roxmltree::{Document, Node};

use super::CalDavError;

pub const DAV: &str = "DAV:";
pub const CALDAV: &str = "urn:ietf:params:xml:ns:caldav";
pub const CALSERVER: &str = "http://calendarserver.org/ns/";
pub const APPLE: &str = "http://apple.com/ns/ical/";

/// PROPFIND Depth 0 on the server URL (then on the principal).
pub const PRINCIPAL_BODY: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:"><d:prop><d:current-user-principal/></d:prop></d:propfind>"#;

/// PROPFIND Depth 0 on the principal.
pub const HOME_SET_BODY: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><c:calendar-home-set/></d:prop></d:propfind>"#;

/// PROPFIND Depth 1 on the calendar home (and Depth 0 on one calendar for a poll).
pub const CALENDARS_BODY: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:cs="http://calendarserver.org/ns/" xmlns:a="http://apple.com/ns/ical/"><d:prop><d:resourcetype/><d:displayname/><a:calendar-color/><cs:getctag/><d:sync-token/><c:supported-calendar-component-set/></d:prop></d:propfind>"#;

/// REPORT Depth 1 on a calendar: the ETags of the VEVENTs overlapping the window.
pub fn calendar_query_body(start: &str, end: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range start="{start}" end="{end}"/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>"#
    )
}

/// REPORT Depth 1 on a calendar: the data and ETags of these objects.
pub fn multiget_body(hrefs: &[String]) -> String {
    let hrefs: String = hrefs
        .iter()
        .map(|h| format!("<d:href>{}</d:href>", escape(h)))
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop>{hrefs}</c:calendar-multiget>"#
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// One `<d:response>`: its href, whether it is a 404 (gone), and its found properties.
#[derive(Debug)]
pub struct DavResponse<'a, 'input> {
    pub href: String,
    pub gone: bool,
    /// `<d:prop>` elements of propstats with a 2xx status.
    props: Vec<Node<'a, 'input>>,
}

impl<'a, 'input> DavResponse<'a, 'input> {
    pub fn prop(&self, ns: &str, name: &str) -> Option<Node<'a, 'input>> {
        self.props.iter().flat_map(|p| p.children()).find(|n| {
            n.is_element() && n.tag_name().namespace() == Some(ns) && n.tag_name().name() == name
        })
    }

    /// A property's text, trimmed; `None` when absent or empty.
    pub fn text(&self, ns: &str, name: &str) -> Option<String> {
        let node = self.prop(ns, name)?;
        let text: String = node
            .descendants()
            .filter(|n| n.is_text())
            .filter_map(|n| n.text())
            .collect();
        let text = text.trim();
        (!text.is_empty()).then(|| text.to_owned())
    }

    /// The `<d:href>` inside a property (current-user-principal, calendar-home-set).
    pub fn href_in(&self, ns: &str, name: &str) -> Option<String> {
        self.prop(ns, name)?
            .descendants()
            .find(|n| {
                n.is_element()
                    && n.tag_name().namespace() == Some(DAV)
                    && n.tag_name().name() == "href"
            })
            .and_then(|n| n.text())
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
    }

    pub fn has_child(&self, ns: &str, name: &str, child_ns: &str, child: &str) -> bool {
        self.prop(ns, name).is_some_and(|p| {
            p.children().any(|c| {
                c.is_element()
                    && c.tag_name().namespace() == Some(child_ns)
                    && c.tag_name().name() == child
            })
        })
    }
}

pub fn parse(body: &str) -> Result<Document<'_>, CalDavError> {
    Document::parse(body).map_err(|e| CalDavError::Xml(e.to_string()))
}

/// The responses of a multistatus document.
pub fn responses<'a, 'input>(
    doc: &'a Document<'input>,
) -> Result<Vec<DavResponse<'a, 'input>>, CalDavError> {
    let root = doc.root_element();
    if root.tag_name().namespace() != Some(DAV) || root.tag_name().name() != "multistatus" {
        return Err(CalDavError::Xml(format!(
            "expected a DAV multistatus, got <{}>",
            root.tag_name().name()
        )));
    }
    Ok(root
        .children()
        .filter(|n| is(n, DAV, "response"))
        .filter_map(|response| {
            let href = response
                .children()
                .find(|n| is(n, DAV, "href"))
                .and_then(|n| n.text())?
                .trim()
                .to_owned();
            let gone = response
                .children()
                .find(|n| is(n, DAV, "status"))
                .and_then(|n| n.text())
                .is_some_and(|s| s.contains(" 404"));
            let props = response
                .children()
                .filter(|n| is(n, DAV, "propstat"))
                .filter(|ps| {
                    ps.children()
                        .find(|n| is(n, DAV, "status"))
                        .and_then(|n| n.text())
                        .is_none_or(|s| s.contains(" 2"))
                })
                .filter_map(|ps| ps.children().find(|n| is(n, DAV, "prop")))
                .collect();
            Some(DavResponse { href, gone, props })
        })
        .collect())
}

fn is(node: &Node<'_, '_>, ns: &str, name: &str) -> bool {
    node.is_element() && node.tag_name().namespace() == Some(ns) && node.tag_name().name() == name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multistatus_props_are_read_by_namespace_and_404_propstats_ignored() {
        let body = r#"<?xml version="1.0"?>
<multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:X="http://calendarserver.org/ns/">
  <response>
    <href>/alice/work/</href>
    <propstat><prop>
      <resourcetype><collection/><C:calendar/></resourcetype>
      <displayname>Work &amp; more</displayname>
      <X:getctag>"ctag-1"</X:getctag>
    </prop><status>HTTP/1.1 200 OK</status></propstat>
    <propstat><prop><sync-token/></prop><status>HTTP/1.1 404 Not Found</status></propstat>
  </response>
  <response><href>/alice/work/gone.ics</href><status>HTTP/1.1 404 Not Found</status></response>
</multistatus>"#;
        let doc = parse(body).unwrap();
        let responses = responses(&doc).unwrap();
        assert_eq!(responses.len(), 2);
        let calendar = &responses[0];
        assert_eq!(calendar.href, "/alice/work/");
        assert!(calendar.has_child(DAV, "resourcetype", CALDAV, "calendar"));
        assert_eq!(
            calendar.text(DAV, "displayname").as_deref(),
            Some("Work & more")
        );
        assert_eq!(
            calendar.text(CALSERVER, "getctag").as_deref(),
            Some("\"ctag-1\"")
        );
        assert_eq!(calendar.text(DAV, "sync-token"), None);
        assert!(!calendar.gone);
        assert!(responses[1].gone);
    }

    #[test]
    fn a_web_page_is_not_a_multistatus() {
        assert!(matches!(
            parse("<html><body>hi</body></html>").and_then(|d| responses(&d).map(|r| r.len())),
            Err(CalDavError::Xml(_))
        ));
        assert!(matches!(parse("not xml"), Err(CalDavError::Xml(_))));
    }

    #[test]
    fn multiget_hrefs_are_escaped() {
        let body = multiget_body(&["/a/b&c.ics".to_owned()]);
        assert!(body.contains("<d:href>/a/b&amp;c.ics</d:href>"));
        assert!(Document::parse(&body).is_ok());
    }
}
