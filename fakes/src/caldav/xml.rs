//! Writing `207 Multi-Status` answers.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

const NAMESPACES: &str = "xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:caldav\" \
    xmlns:cs=\"http://calendarserver.org/ns/\" xmlns:ic=\"http://apple.com/ns/ical/\"";

/// The prefix each known property is written with.
fn prefix(local: &str) -> &'static str {
    match local {
        "calendar-home-set" | "supported-calendar-component-set" | "calendar-data" => "c",
        "getctag" => "cs",
        "calendar-color" => "ic",
        _ => "d",
    }
}

pub(super) fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

pub(super) fn href(path: &str) -> String {
    format!("<d:href>{}</d:href>", escape(path))
}

/// One response element: a resource's known properties (inner XML by local name).
pub(super) struct Resource {
    href: String,
    props: Vec<(&'static str, String)>,
    missing: bool,
}

impl Resource {
    pub(super) fn new(href: String) -> Self {
        Self {
            href,
            props: Vec::new(),
            missing: false,
        }
    }

    /// An href asked for by a multiget that does not exist.
    pub(super) fn missing(href: String) -> Self {
        Self {
            missing: true,
            ..Self::new(href)
        }
    }

    pub(super) fn prop(mut self, local: &'static str, inner_xml: &str) -> Self {
        self.props.push((local, inner_xml.to_owned()));
        self
    }

    pub(super) fn text(self, local: &'static str, text: &str) -> Self {
        self.prop(local, &escape(text))
    }

    pub(super) fn text_opt(self, local: &'static str, text: Option<&str>) -> Self {
        match text {
            Some(text) => self.text(local, text),
            None => self,
        }
    }

    fn write(&self, requested: &[(String, String)], out: &mut String) {
        out.push_str("<d:response>");
        out.push_str(&href(&self.href));
        if self.missing {
            out.push_str("<d:status>HTTP/1.1 404 Not Found</d:status></d:response>");
            return;
        }
        let mut found = String::new();
        let mut unknown = String::new();
        let wanted: Vec<&str> = if requested.is_empty() {
            // allprop leaves out the expensive calendar-data (RFC 4791 9.6).
            self.props
                .iter()
                .map(|(l, _)| *l)
                .filter(|l| *l != "calendar-data")
                .collect()
        } else {
            requested.iter().map(|(_, l)| l.as_str()).collect()
        };
        for local in wanted {
            match self.props.iter().find(|(l, _)| *l == local) {
                Some((l, inner)) => {
                    let p = prefix(l);
                    found.push_str(&format!("<{p}:{l}>{inner}</{p}:{l}>"));
                }
                None => {
                    let ns = requested
                        .iter()
                        .find(|(_, l)| l == local)
                        .map_or("DAV:", |(n, _)| n.as_str());
                    unknown.push_str(&format!("<x:{local} xmlns:x=\"{}\"/>", escape(ns)));
                }
            }
        }
        if !found.is_empty() {
            out.push_str(&format!(
                "<d:propstat><d:prop>{found}</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>"
            ));
        }
        if !unknown.is_empty() {
            out.push_str(&format!(
                "<d:propstat><d:prop>{unknown}</d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat>"
            ));
        }
        out.push_str("</d:response>");
    }
}

pub(super) struct Multistatus {
    resources: Vec<Resource>,
}

impl Multistatus {
    pub(super) fn new(resources: Vec<Resource>) -> Self {
        Self { resources }
    }

    pub(super) fn respond(
        &self,
        requested: &[(String, String)],
        sync_token: Option<&str>,
    ) -> Response {
        let mut out =
            format!("<?xml version=\"1.0\" encoding=\"utf-8\"?><d:multistatus {NAMESPACES}>");
        for resource in &self.resources {
            resource.write(requested, &mut out);
        }
        if let Some(token) = sync_token {
            out.push_str(&format!("<d:sync-token>{}</d:sync-token>", escape(token)));
        }
        out.push_str("</d:multistatus>");
        (
            StatusCode::MULTI_STATUS,
            [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
            out,
        )
            .into_response()
    }
}
