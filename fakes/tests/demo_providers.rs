//! The demo Fastmail (JMAP) and calendar (CalDAV) fakes over real HTTP, spoken to the
//! way a sync client speaks to Fastmail or Radicale.

use chrono::{TimeZone, Utc};
use fakes::demo_providers::{self, CALDAV_PASSWORD, CALDAV_USER, FASTMAIL_TOKEN, FASTMAIL_USER};
use fakes::mailbox::{Mailbox, MailboxSpec};
use fakes::serve::RunningServer;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn start() -> RunningServer {
    let truth = Mailbox::generate(&MailboxSpec::demo(300)).truth();
    let end = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap();
    demo_providers::start(&truth, end, 0).await.unwrap()
}

/// One API request with the Fastmail token, answered whatever its status.
async fn post_jmap(server: &RunningServer, calls: Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/jmap/api/", server.base_url()))
        .bearer_auth(FASTMAIL_TOKEN)
        .json(&json!({
            "using": ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"],
            "methodCalls": calls
        }))
        .send()
        .await
        .unwrap()
}

async fn jmap(server: &RunningServer, calls: Value) -> Value {
    let response = post_jmap(server, calls).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json::<Value>().await.unwrap()["methodResponses"].clone()
}

#[tokio::test]
async fn jmap_session_query_get_by_reference_and_stamp() {
    let server = start().await;
    let http = reqwest::Client::new();
    let session_url = format!("{}/jmap/session", server.base_url());
    assert_eq!(
        http.get(&session_url)
            .bearer_auth("wrong")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let session: Value = http
        .get(&session_url)
        .basic_auth(FASTMAIL_USER, Some(demo_providers::FASTMAIL_PASSWORD))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(session["capabilities"]["urn:ietf:params:jmap:mail"].is_object());
    assert_eq!(session["username"], FASTMAIL_USER);
    let account = session["primaryAccounts"]["urn:ietf:params:jmap:mail"]
        .as_str()
        .unwrap()
        .to_owned();

    let boxes = jmap(
        &server,
        json!([["Mailbox/get", {"accountId": account, "ids": null}, "0"]]),
    )
    .await;
    let inbox = boxes[0][1]["list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "inbox")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let query = |limit: u64| {
        json!([
            ["Email/query", {"accountId": account, "limit": limit,
              "filter": {"inMailbox": inbox, "notKeyword": "$crm_done"},
              "sort": [{"property": "receivedAt", "isAscending": true}]}, "q"],
            ["Email/get", {"accountId": account,
              "#ids": {"resultOf": "q", "name": "Email/query", "path": "/ids"},
              "properties": ["id", "messageId", "from", "subject", "receivedAt", "keywords", "textBody"],
              "fetchTextBodyValues": true}, "g"]
        ])
    };
    let first = jmap(&server, query(5)).await;
    let ids = first[0][1]["ids"].as_array().unwrap().clone();
    assert_eq!(ids.len(), 5);
    let list = first[1][1]["list"].as_array().unwrap();
    assert_eq!(list.len(), 5, "Email/get resolved the #ids reference");
    assert!(list[0]["from"][0]["email"].as_str().unwrap().contains('@'));
    assert!(
        list.windows(2)
            .all(|w| w[0]["receivedAt"].as_str() <= w[1]["receivedAt"].as_str())
    );
    assert!(
        list[0].get("mailboxIds").is_none(),
        "only the asked properties"
    );

    let stamp: serde_json::Map<String, Value> = ids
        .iter()
        .map(|id| {
            (
                id.as_str().unwrap().to_owned(),
                json!({"keywords/$crm_done": true}),
            )
        })
        .collect();
    let set = jmap(
        &server,
        json!([["Email/set", {"accountId": account, "update": stamp}, "s"]]),
    )
    .await;
    assert_eq!(set[0][1]["updated"].as_object().unwrap().len(), 5);

    let again = jmap(&server, query(5)).await;
    let next: Vec<&Value> = again[0][1]["ids"].as_array().unwrap().iter().collect();
    assert!(
        next.iter().all(|id| !ids.contains(id)),
        "stamped messages leave the query"
    );

    let bad = jmap(&server, json!([["Email/set", {"accountId": account, "ifInState": "0", "update": {}}, "x"],
                                   ["Email/query", {"accountId": account, "filter": {"text": "x"}}, "y"],
                                   ["Email/changes", {"accountId": account}, "z"]])).await;
    assert_eq!(bad[0][0], "error");
    assert_eq!(bad[0][1]["type"], "stateMismatch");
    assert_eq!(bad[1][1]["type"], "unsupportedFilter");
    assert_eq!(bad[2][1]["type"], "unknownMethod");

    let created = jmap(
        &server,
        json!([["Mailbox/set", {"accountId": account,
        "create": {"k": {"name": "Skip_Email"}}}, "m"]]),
    )
    .await;
    let skip = created[0][1]["created"]["k"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let first_id = ids[0].as_str().unwrap();
    let moved = jmap(
        &server,
        json!([["Email/set", {"accountId": account, "update": {
        first_id: {"mailboxIds": {skip.clone(): true}, "keywords/$seen": true}}}, "mv"],
        ["Email/query", {"accountId": account, "filter": {"inMailbox": skip}}, "q"]]),
    )
    .await;
    assert!(moved[0][1]["updated"][first_id].is_null());
    assert_eq!(moved[1][1]["ids"], json!([first_id]));
}

/// The limits the session advertises are enforced as RFC 8620 says: more updates than
/// `maxObjectsInSet` in one `Email/set` is `requestTooLarge`, more calls than
/// `maxCallsInRequest` a request-level `limit` error.
#[tokio::test]
async fn jmap_limits_are_enforced_as_advertised() {
    let server = start().await;
    let session: Value = reqwest::Client::new()
        .get(format!("{}/jmap/session", server.base_url()))
        .bearer_auth(FASTMAIL_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let core = &session["capabilities"]["urn:ietf:params:jmap:core"];
    let max_set = core["maxObjectsInSet"].as_u64().unwrap() as usize;
    let max_calls = core["maxCallsInRequest"].as_u64().unwrap() as usize;
    let account = session["primaryAccounts"]["urn:ietf:params:jmap:mail"].clone();
    let stamps = |n: usize| -> serde_json::Map<String, Value> {
        (0..n)
            .map(|i| (format!("M{i}"), json!({"keywords/$crm_done": true})))
            .collect()
    };

    let at_limit = jmap(
        &server,
        json!([["Email/set", {"accountId": account, "update": stamps(max_set)}, "s"]]),
    )
    .await;
    assert_eq!(at_limit[0][0], "Email/set");
    assert_eq!(
        at_limit[0][1]["notUpdated"].as_object().unwrap().len(),
        max_set,
        "unknown ids are notFound, one by one"
    );
    let over = jmap(
        &server,
        json!([["Email/set", {"accountId": account, "update": stamps(max_set + 1)}, "s"]]),
    )
    .await;
    assert_eq!(over[0][0], "error");
    assert_eq!(over[0][1]["type"], "requestTooLarge");

    let calls = |n: usize| -> Vec<Value> {
        (0..n)
            .map(|i| json!(["Mailbox/get", {"accountId": account}, format!("c{i}")]))
            .collect()
    };
    assert_eq!(
        jmap(&server, json!(calls(max_calls)))
            .await
            .as_array()
            .unwrap()
            .len(),
        max_calls
    );
    let response = post_jmap(&server, json!(calls(max_calls + 1))).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["type"], "urn:ietf:params:jmap:error:limit");
    assert_eq!(problem["limit"], "maxCallsInRequest");
}

async fn dav(
    server: &RunningServer,
    method: &str,
    path: &str,
    depth: &str,
    body: &str,
) -> (StatusCode, String) {
    let response = reqwest::Client::new()
        .request(
            Method::from_bytes(method.as_bytes()).unwrap(),
            format!("{}{path}", server.base_url()),
        )
        .basic_auth(CALDAV_USER, Some(CALDAV_PASSWORD))
        .header("Depth", depth)
        .header("Content-Type", "application/xml; charset=utf-8")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Vec<&'a str> {
    text.split(open)
        .skip(1)
        .filter_map(|s| s.split(close).next())
        .collect()
}

#[tokio::test]
async fn caldav_discovery_ctag_query_and_multiget() {
    let server = start().await;
    let unauthorized = reqwest::Client::new()
        .request(
            Method::from_bytes(b"PROPFIND").unwrap(),
            format!("{}/dav/", server.base_url()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorized.status(), StatusCode::UNAUTHORIZED);

    let (status, body) = dav(
        &server,
        "PROPFIND",
        "/.well-known/caldav",
        "0",
        r#"<d:propfind xmlns:d="DAV:"><d:prop><d:current-user-principal/></d:prop></d:propfind>"#,
    )
    .await;
    assert_eq!(status, StatusCode::MULTI_STATUS);
    let principal = between(&body, "<d:current-user-principal><d:href>", "</d:href>")[0].to_owned();

    let (_, body) = dav(&server, "PROPFIND", &principal, "0",
        r#"<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><c:calendar-home-set/></d:prop></d:propfind>"#).await;
    let home = between(&body, "<c:calendar-home-set><d:href>", "</d:href>")[0].to_owned();

    let (_, body) = dav(&server, "PROPFIND", &home, "1",
        r#"<d:propfind xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/"><d:prop><d:displayname/><d:resourcetype/><cs:getctag/><d:sync-token/><x:unknown xmlns:x="urn:x"/></d:prop></d:propfind>"#).await;
    assert_eq!(between(&body, "<d:displayname>", "<").len(), 2, "{body}");
    assert!(
        body.contains("HTTP/1.1 404 Not Found"),
        "unknown properties are 404 in a propstat"
    );
    let ctags = between(&body, "<cs:getctag>", "<");
    let work = format!("{home}work/");

    let query = r#"<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
        <d:prop><d:getetag/></d:prop>
        <c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">
        <c:time-range start="20260801T000000Z" end="20271201T000000Z"/></c:comp-filter></c:comp-filter></c:filter>
        </c:calendar-query>"#;
    let (status, body) = dav(&server, "REPORT", &work, "1", query).await;
    assert_eq!(status, StatusCode::MULTI_STATUS);
    let hrefs = between(&body, "<d:href>", "</d:href>");
    assert!(hrefs.len() >= 10, "{body}");
    assert!(
        !body.contains("BEGIN:VCALENDAR"),
        "only etags were asked for"
    );

    let narrow = query.replace("20260801T000000Z", "20270301T000000Z");
    let (_, narrow_body) = dav(&server, "REPORT", &work, "1", &narrow).await;
    assert!(
        between(&narrow_body, "<d:href>", "</d:href>").len() < hrefs.len(),
        "the time range filters"
    );

    let multiget = format!(
        r#"<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop><d:href>{}</d:href><d:href>{work}missing.ics</d:href></c:calendar-multiget>"#,
        hrefs[0]
    );
    let (_, body) = dav(&server, "REPORT", &work, "1", &multiget).await;
    assert_eq!(body.matches("BEGIN:VCALENDAR").count(), 1);
    assert!(body.contains("HTTP/1.1 404 Not Found"));
    assert!(body.contains("RRULE:FREQ=WEEKLY") || body.contains("DTSTART"));

    let (_, again) = dav(&server, "PROPFIND", &home, "1",
        r#"<d:propfind xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/"><d:prop><cs:getctag/></d:prop></d:propfind>"#).await;
    assert_eq!(
        between(&again, "<cs:getctag>", "<"),
        ctags,
        "ctags are stable while nothing changes"
    );

    let (status, _) = dav(&server, "REPORT", &work, "1",
        r#"<d:sync-collection xmlns:d="DAV:"><d:sync-token>http://rapport.demo/ns/sync/old</d:sync-token><d:prop><d:getetag/></d:prop></d:sync-collection>"#).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "an unknown sync token is refused"
    );
}
