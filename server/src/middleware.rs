//! Cross-cutting HTTP behaviour: request ids (which errors answered inside the request
//! quote), request logs, compression, panics turned into a 500 page that shows the
//! request id, refusal of cross-site writes, and the security headers of every response.

use std::panic::AssertUnwindSafe;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{Next, from_fn};
use axum::response::{Html, IntoResponse, Response};
use futures_util::FutureExt;
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

const REQUEST_ID: &str = "x-request-id";

/// `https` (the public URL is https) adds Strict-Transport-Security.
pub fn apply(router: Router, https: bool) -> Router {
    // The last layer added runs first.
    router
        .layer(from_fn(scope_request_id))
        .layer(from_fn(refuse_cross_site_writes))
        .layer(from_fn(catch_panics))
        .layer(from_fn(move |request: Request, next: Next| {
            security_headers(https, request, next)
        }))
        // Level 4: brotli's default (11) cost 2.6 ms of CPU per contacts page, more than
        // rendering it; at 4 it costs a fraction of that and still shrinks pages ~7x.
        .layer(CompressionLayer::new().quality(CompressionLevel::Precise(4)))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request| {
                tracing::info_span!(
                    "request",
                    method = %request.method(),
                    path = %request.uri().path(),
                    request_id = request_id(request.headers()),
                )
            }),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

fn request_id(headers: &HeaderMap) -> &str {
    headers
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
}

/// Lets an [`app::AppError`] answered while handling the request name the request id.
async fn scope_request_id(request: Request, next: Next) -> Response {
    let id = request_id(request.headers()).to_owned();
    app::app_error::with_request_id(id, next.run(request)).await
}

/// A state-changing request from a browser must come from our own origin. Browsers send
/// `Sec-Fetch-Site` and/or `Origin` on such requests; clients that send neither (curl,
/// webhooks) carry no ambient cookies from a victim's browser and pass.
/// Webhooks (`/ingest/`) and the token API (`/api/v1/`) are exempt: they authenticate
/// with a key or token in a header, which a browser never attaches on its own, so a
/// cross-site page cannot forge one (and `/api/v1/` reads no session cookie).
const HEADER_AUTHENTICATED: [&str; 2] = ["/ingest/", "/api/v1/"];

async fn refuse_cross_site_writes(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if !HEADER_AUTHENTICATED
        .iter()
        .any(|prefix| path.starts_with(prefix))
        && is_cross_site_write(request.method(), request.headers())
    {
        tracing::warn!("refused a cross-site {} request", request.method());
        return (StatusCode::FORBIDDEN, "Cross-site request refused.").into_response();
    }
    next.run(request).await
}

pub fn is_cross_site_write(method: &Method, headers: &HeaderMap) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return false;
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site") {
        // same-origin, or "none" (typed into the address bar / bookmarks).
        if !matches!(site, "same-origin" | "none") {
            return true;
        }
    }
    match (
        header(header::ORIGIN.as_str()),
        header(header::HOST.as_str()),
    ) {
        (Some(origin), Some(host)) => origin_authority(origin) != Some(host),
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// `https://example.com:8443` -> `example.com:8443`; `null` and junk -> None.
fn origin_authority(origin: &str) -> Option<&str> {
    let (_, rest) = origin.split_once("://")?;
    Some(rest.trim_end_matches('/')).filter(|a| !a.is_empty() && !a.contains('/'))
}

/// Referrer-Policy, nosniff and (behind https) HSTS on every response; on HTML, a
/// Content-Security-Policy. Pages rendered by Leptos already carry one with the nonce of
/// their inline scripts ([`app::ssr::set_content_security_policy`]); any other HTML (the
/// panic page, plain error pages) gets the same policy without a nonce: no inline script.
async fn security_headers(https: bool, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let is_html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_html
        && !headers.contains_key(header::CONTENT_SECURITY_POLICY)
        && let Ok(policy) = HeaderValue::from_str(&app::ssr::content_security_policy(None))
    {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}

async fn catch_panics(request: Request, next: Next) -> Response {
    let id = request_id(request.headers()).to_owned();
    match AssertUnwindSafe(next.run(request)).catch_unwind().await {
        Ok(response) => response,
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            tracing::error!(request_id = %id, %message, "request handler panicked");
            (StatusCode::INTERNAL_SERVER_ERROR, Html(error_page(&id))).into_response()
        }
    }
}

fn error_page(request_id: &str) -> String {
    // The id is a UUID we generated, but escape it anyway: it is echoed into HTML.
    let id: String = request_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Something went wrong · Rapport</title>
<link rel="stylesheet" href="/pkg/rapport.css"></head><body><main class="page error-page">
<h1>Something went wrong</h1><p>Rapport hit an unexpected error while handling this request. Please try again.</p>
<p class="request-id">Request id: <code>{id}</code></p><p><a class="button" href="/contacts">Back to your contacts</a></p>
</main></body></html>"#
    )
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::routing::{get, post};
    use tower::ServiceExt;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().unwrap());
        }
        map
    }

    #[test]
    fn reads_are_never_refused() {
        let h = headers(&[
            ("origin", "https://evil.example"),
            ("host", "localhost:3000"),
        ]);
        assert!(!is_cross_site_write(&Method::GET, &h));
    }

    #[test]
    fn same_origin_writes_pass() {
        let h = headers(&[
            ("origin", "http://localhost:3000"),
            ("host", "localhost:3000"),
            ("sec-fetch-site", "same-origin"),
        ]);
        assert!(!is_cross_site_write(&Method::POST, &h));
        assert!(!is_cross_site_write(
            &Method::POST,
            &headers(&[("host", "localhost:3000")])
        ));
    }

    #[test]
    fn cross_site_writes_are_refused() {
        let evil = headers(&[
            ("origin", "https://evil.example"),
            ("host", "localhost:3000"),
        ]);
        assert!(is_cross_site_write(&Method::POST, &evil));
        let fetch_meta = headers(&[("sec-fetch-site", "cross-site"), ("host", "localhost:3000")]);
        assert!(is_cross_site_write(&Method::DELETE, &fetch_meta));
        let same_site = headers(&[("sec-fetch-site", "same-site"), ("host", "localhost:3000")]);
        assert!(is_cross_site_write(&Method::POST, &same_site));
        let null_origin = headers(&[("origin", "null"), ("host", "localhost:3000")]);
        assert!(is_cross_site_write(&Method::PUT, &null_origin));
        let other_port = headers(&[
            ("origin", "http://localhost:4000"),
            ("host", "localhost:3000"),
        ]);
        assert!(is_cross_site_write(&Method::PATCH, &other_port));
    }

    async fn boom() -> &'static str {
        panic!("kaboom")
    }

    #[tokio::test]
    async fn a_panic_becomes_a_500_page_with_the_request_id() {
        let router = apply(
            Router::new()
                .route("/boom", get(boom))
                .route("/write", post(|| async { "written" }))
                .route("/ingest/{channel}", post(|| async { "ingested" }))
                .route("/api/v1/contacts/{c}/notes", post(|| async { "noted" })),
            false,
        );
        let response = router
            .clone()
            .oneshot(
                Request::get("/boom")
                    .header(REQUEST_ID, "req-123")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.headers()[REQUEST_ID], "req-123");
        let csp = response.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'") && !csp.contains("nonce-"),
            "{csp}"
        );
        assert_eq!(response.headers()[header::REFERRER_POLICY], "same-origin");
        assert!(
            !response
                .headers()
                .contains_key(header::STRICT_TRANSPORT_SECURITY)
        );
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let body = String::from_utf8(body.to_vec()).unwrap();
        assert!(
            body.contains("Something went wrong") && body.contains("req-123"),
            "{body}"
        );

        for (path, why) in [
            ("/ingest/some-channel", "webhooks carry their own key"),
            ("/api/v1/contacts/c/notes", "the API carries its own token"),
        ] {
            let response = router
                .clone()
                .oneshot(
                    Request::post(path)
                        .header("origin", "https://evil.example")
                        .header("host", "127.0.0.1:3000")
                        .body(Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{why}");
        }

        let refused = router
            .oneshot(
                Request::post("/write")
                    .header("origin", "https://evil.example")
                    .header("host", "127.0.0.1:3000")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    }
}
