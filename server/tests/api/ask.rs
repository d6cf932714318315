//! Ask Rapport over HTTP: `POST /api/ask` streams tools, text and the stored exchange as
//! Server-Sent Events, with the offline engine over synced mail and with a configured
//! (fake) OpenAI-compatible model; refusals (anonymous, cross-site, invalid questions);
//! the form that works without JavaScript; and history that stays with its owner.

use std::time::Duration;

use app::components::relationship_panel::WriteRelationship;
use app::pages::ask::AskQuestion;
use fakes::openai::{FakeOpenAi, Reply};
use leptos::server_fn::ServerFn;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{ALEX, Browser, SAM, SAM_NAME, TestApp, spawn_app, spawn_app_with};

/// Asks through the endpoint; returns the status and either the stream's events
/// (name, data) or, for a refusal, one `("refused", body)`.
async fn ask(browser: &Browser, body: &str) -> (StatusCode, Vec<(String, Value)>) {
    let response = browser
        .client
        .post(format!("{}/api/ask", browser.address))
        .header("origin", &browser.address)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("POST /api/ask");
    let status = response.status();
    if status != StatusCode::OK {
        let body: Value = response.json().await.expect("a JSON refusal");
        return (status, vec![("refused".into(), body)]);
    }
    assert_eq!(
        response.headers()["content-type"],
        "text/event-stream",
        "answers stream as server-sent events"
    );
    let text = tokio::time::timeout(Duration::from_secs(30), response.text())
        .await
        .expect("the stream ends once the answer is stored")
        .expect("body");
    let events = text
        .split("\n\n")
        .filter_map(|block| {
            let name = block.lines().find_map(|l| l.strip_prefix("event: "))?;
            let data = block.lines().find_map(|l| l.strip_prefix("data: "))?;
            Some((
                name.to_owned(),
                serde_json::from_str(data).expect("JSON data"),
            ))
        })
        .collect();
    (status, events)
}

async fn ask_question(browser: &Browser, question: &str) -> Vec<(String, Value)> {
    let (status, events) = ask(browser, &json!({ "question": question }).to_string()).await;
    assert_eq!(status, StatusCode::OK, "{events:?}");
    events
}

fn names(events: &[(String, Value)]) -> Vec<&str> {
    events.iter().map(|(n, _)| n.as_str()).collect()
}

fn done(events: &[(String, Value)]) -> &Value {
    let (name, data) = events.last().expect("events");
    assert_eq!(name, "done", "the stream ends with the stored exchange");
    data
}

fn text_of(events: &[(String, Value)]) -> String {
    events
        .iter()
        .filter(|(n, _)| n == "text")
        .map(|(_, d)| d["text"].as_str().unwrap())
        .collect()
}

async fn stored_exchanges(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from ask_messages")
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

/// A fake OpenAI-compatible model answering with `replies`, the app configured to use it
/// as "fake-gpt", and Alex signed in with one contact, Grace Hopper (returned).
async fn with_model(replies: Vec<Reply>) -> (FakeOpenAi, TestApp, Browser, uuid::Uuid) {
    let fake = FakeOpenAi::start(replies).await.unwrap();
    let base_url = fake.base_url();
    let app = spawn_app_with(
        0,
        &[
            ("OPENAI_BASE_URL", base_url.as_str()),
            ("OPENAI_MODEL", "fake-gpt"),
        ],
    )
    .await;
    let alex = app.sign_in(ALEX).await;
    let grace = alex.create_contact("Grace Hopper", "grace@navy.mil").await;
    (fake, app, alex, grace)
}

#[tokio::test]
async fn the_offline_engine_streams_a_cited_answer_that_stays_in_its_owners_history() {
    let app = spawn_app_with(1, &[]).await;
    let alex = app.sign_in(ALEX).await;
    app.wait_for_processed_mail(ALEX).await;

    let question = "My 3 strongest relationships";
    let events = ask_question(&alex, question).await;
    assert_eq!(
        names(&events),
        ["tool", "text", "done"],
        "the tool call, the answer, the stored exchange: {events:?}"
    );
    assert_eq!(events[0].1["name"], "top_contacts");
    let exchange = done(&events);
    assert_eq!(exchange["engine"], "offline engine");
    assert_eq!(exchange["refused"], false);
    assert_eq!(exchange["question"], question);
    assert_eq!(exchange["answer"], text_of(&events).as_str());
    let citations = exchange["citations"].as_array().unwrap();
    assert_eq!(citations.len(), 3, "one link per person: {exchange}");
    for citation in citations {
        let href = citation["href"].as_str().unwrap();
        assert!(href.starts_with("/contacts/"), "{href}");
        let (status, html) = alex.get_html(href).await;
        assert_eq!(status, 200, "the citation opens the contact");
        assert!(html.contains(citation["label"].as_str().unwrap()));
    }

    // The Ask page lists the exchange, its links and the engine.
    let id = exchange["id"].as_i64().unwrap();
    let (status, html) = alex.get_html("/ask").await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("id=\"exchange-{id}\"")), "{html}");
    assert!(html.contains(question));
    assert!(html.contains("Answered by the offline engine"));
    let first = citations[0]["href"].as_str().unwrap();
    assert!(
        html.contains(&format!("href=\"{first}\"")),
        "links are anchors"
    );

    // Another user's history has none of it, and their questions see none of Alex's data.
    let sam = app.sign_in(SAM).await;
    let sams_page = sam.page("/ask", 200, SAM_NAME).await;
    assert!(sams_page.contains("<h1>Ask Rapport</h1>"));
    assert!(!sams_page.contains(question));
    assert!(!sams_page.contains(first));
    let sams = ask_question(&sam, question).await;
    let sams_answer = done(&sams);
    assert!(
        sams_answer["citations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| !citations.contains(c)),
        "{sams_answer}"
    );
}

#[tokio::test]
async fn a_configured_model_streams_its_tool_calls_and_deltas_and_names_itself() {
    let (fake, _app, alex, _) = with_model(vec![
        Reply::tool_call("call_1", "search_contacts", json!({ "query": "grace" })),
        Reply::text(&["Grace ", "is in your ", "contacts."]),
    ])
    .await;

    let events = ask_question(&alex, "Who is Grace?").await;
    assert_eq!(
        names(&events),
        ["tool", "text", "text", "text", "done"],
        "{events:?}"
    );
    assert_eq!(events[0].1["name"], "search_contacts");
    assert_eq!(text_of(&events), "Grace is in your contacts.");
    let exchange = done(&events);
    assert_eq!(exchange["engine"], "model fake-gpt");
    assert_eq!(exchange["tools"], json!(["search_contacts"]));
    let requests = fake.requests();
    assert_eq!(requests.len(), 2, "one completion per round");
    assert_eq!(requests[0]["model"], "fake-gpt");
    assert!(
        requests[1].to_string().contains("grace@navy.mil"),
        "the tool result reached the model"
    );
    let (_, html) = alex.get_html("/ask").await;
    assert!(html.contains("Answered by model fake-gpt"));
}

#[tokio::test]
async fn anonymous_cross_site_and_invalid_questions_are_refused_and_store_nothing() {
    let app = spawn_app().await;
    let body = json!({ "question": "Who is Dana?" }).to_string();

    let (status, refusal) = ask(&app.anonymous, &body).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{refusal:?}");

    let alex = app.sign_in(ALEX).await;
    let cross_site = alex
        .client
        .post(format!("{}/api/ask", app.address))
        .header("origin", "https://evil.example")
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);

    for (body, status, message) in [
        (
            json!({ "question": "   " }).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid question: is empty".to_owned(),
        ),
        (
            json!({ "question": "x".repeat(1001) }).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid question: is longer than 1000 characters".to_owned(),
        ),
        (
            "{\"q\": 1}".to_owned(),
            StatusCode::BAD_REQUEST,
            "Send a JSON body {\"question\": \"...\"}".to_owned(),
        ),
    ] {
        let (got, events) = ask(&alex, &body).await;
        assert_eq!(got, status, "{body}");
        let error = events[0].1["error"].as_str().unwrap();
        assert!(error.starts_with(&message), "{error}");
    }
    assert_eq!(stored_exchanges(&app).await, 0);
}

#[tokio::test]
async fn the_form_without_javascript_answers_and_returns_to_the_exchange() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let form = |question: &'static str| {
        alex.client
            .post(format!("{}{}", app.address, AskQuestion::PATH))
            .header("origin", &app.address)
            .header("accept", "text/html")
            .header("referer", format!("{}/ask", app.address))
            .form(&[("question", question)])
            .send()
    };

    let answered = form("What is the meaning of life?").await.unwrap();
    assert_eq!(answered.status(), StatusCode::FOUND);
    let location = answered.headers()["location"].to_str().unwrap().to_owned();
    let id: i64 = sqlx::query_scalar("select id from ask_messages")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(location, format!("/ask#exchange-{id}"));
    let (_, html) = alex.get_html("/ask").await;
    assert!(html.contains("What is the meaning of life?"));
    assert!(
        html.contains("I don&#x27;t understand that question")
            || html.contains("I don't understand that question"),
        "the offline engine says what it understands"
    );

    let refused = form("  ").await.unwrap();
    assert_eq!(refused.status(), StatusCode::FOUND);
    let location = refused.headers()["location"].to_str().unwrap();
    assert!(location.starts_with("/ask?error=empty"), "{location}");
    let (_, html) = alex.get_html(location).await;
    assert!(html.contains("Invalid question: is empty"));
    assert_eq!(stored_exchanges(&app).await, 1);
}

#[tokio::test]
async fn the_contact_page_summarizes_suggests_and_drafts_without_sending() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let id = alex.create_contact("Grace Hopper", "grace@navy.mil").await;

    let (status, html) = alex.get_html(&format!("/contacts/{id}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("relationship-panel"), "{html}");
    assert!(
        html.contains(&format!(
            "href=\"/contacts/{id}\" class=\"citation\">Grace Hopper</a>"
        )) && html.contains("have exchanged 0 emails"),
        "the summary links the contact: {html}"
    );
    assert!(html.contains("Introduce yourself: you have no emails with them yet."));
    assert!(html.contains("Hi Grace,"), "the draft greets them");
    assert!(
        html.contains("https://mail.google.com/mail/?view=cm&amp;fs=1&amp;to=grace%40navy.mil&amp;su=Hello&amp;body=Hi%20Grace%2C"),
        "Open in Gmail carries the draft"
    );
    assert!(html.contains("target=\"_blank\" rel=\"noopener\""));

    // Another user's contact has no panel for them: the page is a 404.
    let sam = app.sign_in(SAM).await;
    let html = sam.page(&format!("/contacts/{id}"), 404, SAM_NAME).await;
    assert!(!html.contains("Grace"));
}

#[tokio::test]
async fn with_a_model_the_panel_can_be_rewritten_by_it_and_falls_back_to_templates() {
    let (fake, app, alex, id) = with_model(vec![
        Reply::text(&[
            "Grace and you have not written yet.",
            "\n---\n",
            "Hi Grace,\n\nLovely to meet you at the conference.\n\nAlex",
        ]),
        Reply::Error {
            status: 400,
            kind: "invalid_request_error".into(),
            message: "context too long".into(),
        },
    ])
    .await;

    let (status, html) = alex.get_html(&format!("/contacts/{id}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("Rewrite with fake-gpt"), "{html}");
    assert!(
        fake.requests().is_empty(),
        "viewing the page calls no model"
    );

    let id_text = id.to_string();
    let written = alex
        .call_server_fn(WriteRelationship::PATH, &[("contact", id_text.as_str())])
        .await;
    assert_eq!(written.status(), 200);
    let written: Value = written.json().await.unwrap();
    assert_eq!(written["summary"], "Grace and you have not written yet.");
    assert_eq!(
        written["body"],
        "Hi Grace,\n\nLovely to meet you at the conference.\n\nAlex"
    );
    assert_eq!(written["written_by"], "Written by model fake-gpt");
    let requests = fake.requests();
    assert_eq!(requests.len(), 1, "one completion per rewrite");
    let messages = &requests[0]["messages"];
    assert_eq!(messages[0]["role"], "system");
    assert!(!messages[0]["content"].to_string().contains("Grace"));
    let facts = messages[1]["content"].to_string();
    assert!(
        facts.contains("<facts>") && facts.contains("Grace Hopper"),
        "the contact's facts go in as data: {facts}"
    );

    // The model fails: the error is polite and the page still has the templates.
    let failed = alex
        .call_server_fn(WriteRelationship::PATH, &[("contact", id_text.as_str())])
        .await;
    assert_ne!(failed.status(), 200);
    assert!(
        failed.text().await.unwrap().contains("could not answer"),
        "a polite error"
    );
    let (status, html) = alex.get_html(&format!("/contacts/{id}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("Hi Grace,"), "the template draft: {html}");

    // Another user cannot have a model write about Alex's contact.
    let sam = app.sign_in(SAM).await;
    let refused = sam
        .call_server_fn(WriteRelationship::PATH, &[("contact", id_text.as_str())])
        .await;
    // Not a generic failure: the contact is not found for Sam, a 404 like the contact page.
    let status = refused.status();
    let body = refused.text().await.unwrap();
    assert!(
        status == 404 && body.contains("Contact not found"),
        "{status}: {body}"
    );
    assert_eq!(fake.requests().len(), 2, "no request made for Sam");
}

/// A refusal's Retry-After, in seconds (at least one).
fn retry_after(response: &reqwest::Response) -> u64 {
    let seconds: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in seconds");
    assert!(seconds >= 1, "a positive Retry-After");
    seconds
}

#[tokio::test]
async fn model_calls_are_limited_per_user_with_429_and_retry_after() {
    let replies = (0..3).map(|_| Reply::text(&["An answer."])).collect();
    let fake = FakeOpenAi::start(replies).await.unwrap();
    let base_url = fake.base_url();
    let app = spawn_app_with(
        0,
        &[
            ("OPENAI_BASE_URL", base_url.as_str()),
            ("OPENAI_MODEL", "fake-gpt"),
            ("RAPPORT_MODEL_CALLS_PER_MINUTE", "2"),
        ],
    )
    .await;
    let alex = app.sign_in(ALEX).await;
    let grace = alex.create_contact("Grace Hopper", "grace@navy.mil").await;
    ask_question(&alex, "Who is Grace?").await;
    ask_question(&alex, "And now?").await;

    // The stream endpoint.
    let response = alex
        .client
        .post(format!("{}/api/ask", alex.address))
        .header("origin", &alex.address)
        .header("content-type", "application/json")
        .body(json!({ "question": "Once more?" }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&response) <= 60);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited");
    assert!(
        body["error"].as_str().unwrap().contains("Too many"),
        "a clear message: {body}"
    );

    // The form without JavaScript and the relationship rewrite share the budget.
    let form = alex
        .call_server_fn(AskQuestion::PATH, &[("question", "Form question?")])
        .await;
    assert_eq!(form.status(), StatusCode::TOO_MANY_REQUESTS);
    retry_after(&form);
    let grace = grace.to_string();
    let rewrite = alex
        .call_server_fn(WriteRelationship::PATH, &[("contact", grace.as_str())])
        .await;
    assert_eq!(rewrite.status(), StatusCode::TOO_MANY_REQUESTS);
    retry_after(&rewrite);
    assert!(rewrite.text().await.unwrap().contains("Too many"));
    assert_eq!(
        fake.requests().len(),
        2,
        "refused calls never reach the model"
    );

    // Another user has their own budget.
    let sam = app.sign_in(SAM).await;
    ask_question(&sam, "Hello?").await;
    assert_eq!(fake.requests().len(), 3);
}

#[tokio::test]
async fn the_offline_engine_is_not_limited() {
    let app = spawn_app_with(0, &[("RAPPORT_MODEL_CALLS_PER_MINUTE", "1")]).await;
    let alex = app.sign_in(ALEX).await;
    for question in ["One?", "Two?", "Three?"] {
        ask_question(&alex, question).await;
    }
    assert_eq!(stored_exchanges(&app).await, 3, "every question answered");
}
