//! Hardening of what pages send (#13): security headers and a CSP whose nonce is the
//! one on the page's inline scripts; links in answers only to allowed routes; error
//! banners chosen by code, never text from the URL; `/ask?q=` only fills the box.

use app::pages::ask::AskQuestion;
use leptos::server_fn::ServerFn;
use reqwest::header::HeaderMap;

use crate::helpers::{ALEX, ALEX_NAME, spawn_app, spawn_app_with};

/// Every `nonce="…"` on the page's `<script>` tags.
fn script_nonces(html: &str) -> Vec<String> {
    html.split("<script")
        .skip(1)
        .map(|tag| {
            let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
            tag.split_once("nonce=\"")
                .and_then(|(_, rest)| rest.split_once('"'))
                .map(|(nonce, _)| nonce.to_owned())
                .unwrap_or_default()
        })
        .collect()
}

fn assert_security_headers(path: &str, headers: &HeaderMap, html: &str) {
    let csp = headers
        .get("content-security-policy")
        .unwrap_or_else(|| panic!("{path} has no CSP"))
        .to_str()
        .unwrap();
    for directive in [
        "default-src 'self'",
        "'wasm-unsafe-eval'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "object-src 'none'",
    ] {
        assert!(
            csp.contains(directive),
            "{path}: {directive} missing in {csp}"
        );
    }
    assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
    let script_src = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src"))
        .unwrap();
    let nonces = script_nonces(html);
    assert!(!nonces.is_empty(), "{path} has inline hydration scripts");
    for nonce in &nonces {
        assert!(
            !nonce.is_empty() && script_src.contains(&format!("'nonce-{nonce}'")),
            "{path}: a script's nonce {nonce:?} is not in {script_src}"
        );
    }
    assert!(
        !html.contains(" style=\"") && !html.contains("<style"),
        "{path} has inline styles, which the CSP blocks"
    );
    assert_eq!(headers["referrer-policy"], "same-origin", "{path}");
    assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
}

#[tokio::test]
async fn pages_carry_the_security_headers_and_a_csp_with_their_script_nonce() {
    let app = spawn_app().await;
    let login = app.anonymous.get("/login").await;
    assert_eq!(login.status(), 200);
    let headers = login.headers().clone();
    let html = login.text().await.unwrap();
    assert_security_headers("/login", &headers, &html);
    assert!(
        !headers.contains_key("strict-transport-security"),
        "plain http"
    );

    let alex = app.sign_in(ALEX).await;
    let mut seen = Vec::new();
    for path in ["/contacts", "/ask", "/settings"] {
        let response = alex.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers().clone();
        let html = response.text().await.unwrap();
        assert_security_headers(path, &headers, &html);
        assert!(!headers.contains_key("strict-transport-security"));
        seen.push(headers["content-security-policy"].clone());
    }
    assert_ne!(seen[0], seen[1], "a fresh nonce per response");

    // Not-found pages and non-HTML responses get the headers that apply to them.
    let missing = alex.get("/no-such-page").await;
    assert_eq!(missing.status(), 404);
    assert!(missing.headers().contains_key("content-security-policy"));
    // It is the app's own page, rendered with the app's context: the user menu is there.
    alex.page("/no-such-page", 404, ALEX_NAME).await;
    let health = app.anonymous.get("/healthz").await;
    assert_eq!(health.headers()["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn an_https_public_url_adds_strict_transport_security() {
    let app = spawn_app_with(0, &[("RAPPORT_PUBLIC_URL", "https://rapport.example")]).await;
    let login = app.anonymous.get("/login").await;
    assert_eq!(login.status(), 200);
    let hsts = login.headers()["strict-transport-security"]
        .to_str()
        .unwrap();
    assert!(hsts.starts_with("max-age="), "{hsts}");
    assert!(login.headers().contains_key("content-security-policy"));
}

#[tokio::test]
async fn error_banners_show_messages_chosen_by_code_never_text_from_the_url() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let attack = "%3Cscript%3Eevil%3C%2Fscript%3EPWNED";

    let (status, html) = alex
        .get_html(&format!("/settings?import_error={attack}"))
        .await;
    assert_eq!(status, 200);
    assert!(!html.contains("PWNED"), "the import banner echoes the URL");
    assert!(html.contains("Upload refused"), "a generic message instead");

    let (status, html) = alex.get_html(&format!("/ask?error={attack}")).await;
    assert_eq!(status, 200);
    assert!(!html.contains("PWNED"), "the ask banner echoes the URL");
    assert!(
        html.contains("could not be asked"),
        "a generic message instead"
    );

    // Known codes keep their fixed messages.
    let (_, html) = alex.get_html("/settings?import_error=not_mbox").await;
    assert!(html.contains("this is not an mbox file"));
    let (_, html) = alex.get_html("/ask?error=empty").await;
    assert!(html.contains("Invalid question: is empty"));
}

#[tokio::test]
async fn links_in_answers_and_history_only_go_to_allowed_routes() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    // The offline engine repeats parts of a question (an unknown company's name) back.
    for question in [
        r"Who do I know at [x](/\evil.example/x)?",
        r"Top 5 people at [x](/\evil.example/x) by emails",
        r"[y](/contacts/not-a-uuid) [z](//evil.example) [j](javascript:alert(1))",
    ] {
        let response = alex
            .client
            .post(format!("{}{}", app.address, AskQuestion::PATH))
            .header("origin", &app.address)
            .header("accept", "text/html")
            .header("referer", format!("{}/ask", app.address))
            .form(&[("question", question)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 302, "{question}");
    }
    let (status, html) = alex.get_html("/ask").await;
    assert_eq!(status, 200);
    let answers: Vec<&str> = html.split("class=\"answer-text\"").skip(1).collect();
    assert_eq!(answers.len(), 3, "three answers in the history");
    assert!(
        answers.iter().any(|a| a.contains("evil.example/x")),
        "an answer repeats the question's link text, as plain text"
    );
    for bad in [
        r#"href="/\evil"#,
        r#"href="/\\evil"#,
        r#"href="//evil"#,
        r#"href="javascript"#,
        r#"href="/contacts/not-a-uuid"#,
    ] {
        assert!(!html.contains(bad), "the history links {bad}");
    }
    for a in html.split("class=\"citation\"").skip(1) {
        let href = a
            .split_once("href=\"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(href, _)| href)
            .unwrap_or_default();
        assert!(api::links::is_allowed_href(href), "citation to {href}");
    }
}

#[tokio::test]
async fn a_question_in_the_url_only_fills_the_box() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let (status, html) = alex
        .get_html("/ask?q=Who%20haven%27t%20I%20replied%20to%3F")
        .await;
    assert_eq!(status, 200);
    assert!(html.contains("autofocus"), "the box takes the focus");
    assert!(html.contains("value=\"Who haven"), "the box is filled");
    let stored: i64 = sqlx::query_scalar("select count(*) from ask_messages")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(stored, 0, "nothing was asked");
}
