//! Reading mail over HTTP: the thread page and its HTML frame answer only the message's
//! owner (another user gets a 404, never the mail and never a 500 or a redirect), the
//! frame carries its own strict Content-Security-Policy, and allowing remote images is
//! a same-origin write that changes exactly that message's policy.

use app::pages::thread::AllowRemoteImages;
use chrono::Utc;
use leptos::server_fn::ServerFn;
use uuid::Uuid;

use crate::helpers::{ALEX, SAM, spawn_app};

const STORED_HTML: &str = "<h2>Numbers inside</h2><img data-remote-src=\"https://t.example/o/1.gif\" alt=\"\"><script>alert(1)</script>";

async fn frame(browser: &crate::helpers::Browser, id: Uuid) -> (u16, String, String) {
    let response = browser.get(&format!("/mail/{id}/html")).await;
    let status = response.status().as_u16();
    let csp = response
        .headers()
        .get("content-security-policy")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, csp, response.text().await.unwrap())
}

#[tokio::test]
async fn threads_and_their_html_answer_only_their_owner_under_a_strict_policy() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let sam = app.sign_in(SAM).await;
    let id = app
        .test_user(ALEX)
        .await
        .email(Utc::now())
        .subject("Quarterly numbers")
        .body("See the HTML.")
        .thread("T-1")
        .person("from", "ann@x.example", None)
        .insert()
        .await;
    // Stored as if an older sanitizer had let a script through: the frame cleans again.
    sqlx::query("update activities set body_html = $2 where id = $1")
        .bind(id)
        .bind(STORED_HTML)
        .execute(app.db.pool())
        .await
        .unwrap();

    let page = alex
        .page(&format!("/mail/{id}"), 200, "Quarterly numbers")
        .await;
    assert!(page.contains(&format!("/mail/{id}/html")), "{page}");
    assert!(
        page.contains("ann@x.example") && page.contains("Show images"),
        "{page}"
    );
    let (status, csp, html) = frame(&alex, id).await;
    assert_eq!(status, 200, "{html}");
    for directive in [
        "default-src 'none'",
        "img-src data:;",
        "frame-ancestors 'self'",
        "sandbox",
    ] {
        assert!(csp.contains(directive), "{directive} missing: {csp}");
    }
    assert!(
        !csp.contains("allow-scripts") && !csp.contains("allow-same-origin"),
        "{csp}"
    );
    assert!(
        html.contains("Numbers inside") && !html.contains("<script"),
        "{html}"
    );
    assert!(!html.contains(" src=\"https://"), "{html}");

    // Another user: not found, with nothing of the mail in the answer.
    for path in [format!("/mail/{id}"), format!("/mail/{id}/html")] {
        let (status, body) = sam.get_html(&path).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert!(
            !body.contains("Quarterly") && !body.contains("Numbers inside"),
            "{path}: {body}"
        );
    }
    let id_text = id.to_string();
    let refused = sam
        .call_server_fn(AllowRemoteImages::PATH, &[("activity", id_text.as_str())])
        .await;
    assert_eq!(refused.status(), 404);
    assert!(
        frame(&alex, id).await.1.contains("img-src data:;"),
        "still blocked"
    );

    // A cross-site page cannot allow them on the owner's behalf.
    let forged = alex
        .client
        .post(format!("{}{}", alex.address, AllowRemoteImages::PATH))
        .header("origin", "https://evil.example")
        .form(&[("activity", id_text.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert!(
        frame(&alex, id).await.1.contains("img-src data:;"),
        "still blocked"
    );

    let allowed = alex
        .call_server_fn(AllowRemoteImages::PATH, &[("activity", id_text.as_str())])
        .await;
    assert_eq!(allowed.status(), 200);
    let (_, csp, html) = frame(&alex, id).await;
    assert!(csp.contains("img-src data: https: http:;"), "{csp}");
    assert!(
        html.contains(" src=\"https://t.example/o/1.gif\""),
        "{html}"
    );

    assert_eq!(frame(&alex, Uuid::new_v4()).await.0, 404);
    assert_eq!(alex.get_html("/mail/not-an-id/html").await.0, 404);
}
