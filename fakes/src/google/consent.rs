//! The authorization endpoint: parameter validation, Google-style error
//! pages and a one-click "choose an account" consent page.
//!
//! There are no passwords or sessions: picking an account is the whole
//! sign-in, which is what demos and browser tests want. Everything the
//! page needs travels in hidden form fields, so the POST is re-validated
//! exactly like the GET.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Form, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::oauth::Consent;
use super::state::Shared;

/// Plain-words descriptions shown on the consent page, as Google words them.
fn describe_scope(scope: &str) -> String {
    let short = scope
        .strip_prefix("https://www.googleapis.com/auth/")
        .unwrap_or(scope);
    match short {
        "openid" => "Associate you with your personal info on Google",
        "email" | "userinfo.email" => "See your primary Google Account email address",
        "profile" | "userinfo.profile" => {
            "See your personal info, including any personal info you've made publicly available"
        }
        "gmail.readonly" => "View your email messages and settings",
        "gmail.metadata" => {
            "View your email message metadata such as labels and headers, but not the email body"
        }
        "gmail.modify" => "Read, compose, and send emails from your Gmail account",
        "gmail.labels" => "See and edit your email labels",
        "https://mail.google.com/" => {
            "Read, compose, send, and permanently delete all your email from Gmail"
        }
        other => return format!("Access: {other}"),
    }
    .to_string()
}

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Percent-encodes a query component (RFC 3986 unreserved set kept).
pub(crate) fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn redirect_with(redirect_uri: &str, params: &[(&str, &str)]) -> Response {
    let mut url = redirect_uri.to_string();
    let mut sep = if url.contains('?') { '&' } else { '?' };
    for (k, v) in params {
        url.push(sep);
        url.push_str(k);
        url.push('=');
        url.push_str(&encode_component(v));
        sep = '&';
    }
    (StatusCode::FOUND, [(header::LOCATION, url)]).into_response()
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;background:#f1f3f4;margin:0;color:#202124}\
main{max-width:440px;margin:48px auto;background:#fff;border:1px solid #dadce0;border-radius:8px;padding:36px 40px}\
h1{font-size:22px;font-weight:400;margin:0 0 6px}p.sub{color:#5f6368;margin:0 0 24px}\
button.account{display:flex;gap:12px;align-items:center;width:100%;text-align:left;background:#fff;border:0;border-top:1px solid #e8eaed;padding:12px 4px;cursor:pointer;font:inherit}\
button.account:hover{background:#f8f9fa}.avatar{width:32px;height:32px;border-radius:50%;background:#1a73e8;color:#fff;display:grid;place-items:center;font-weight:500}\
.email{color:#5f6368;font-size:13px}.hint{color:#188038;font-size:12px}ul{padding-left:20px;color:#3c4043;font-size:14px}\
.actions{margin-top:20px;text-align:right}button.deny{background:none;border:1px solid #dadce0;border-radius:4px;padding:8px 16px;cursor:pointer;color:#1a73e8;font:inherit}\
.error h1{color:#d93025}";

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{}</title><link rel=\"icon\" href=\"data:,\"><style>{STYLE}</style></head><body><main>{body}</main></body></html>",
        esc(title)
    );
    (status, Html(html)).into_response()
}

/// Google's "Access blocked" page, e.g. `Error 400: invalid_request`.
struct ErrorPage {
    status: StatusCode,
    error: &'static str,
    detail: String,
}

fn error_page(status: StatusCode, error: &'static str, detail: &str) -> ErrorPage {
    ErrorPage {
        status,
        error,
        detail: detail.to_string(),
    }
}

impl IntoResponse for ErrorPage {
    fn into_response(self) -> Response {
        let heading = format!("Error {}: {}", self.status.as_u16(), self.error);
        page(
            self.status,
            &heading,
            &format!(
                "<div class=\"error\"><h1>Access blocked: Fake Google (demo)</h1><p><strong>{}</strong></p><p>{}</p></div>",
                esc(&heading),
                esc(&self.detail)
            ),
        )
    }
}

/// Parameters that survived validation.
struct AuthRequest<'a> {
    client_id: &'a str,
    redirect_uri: &'a str,
    scope: &'a str,
    state: Option<&'a str>,
    code_challenge: Option<&'a str>,
    offline: bool,
}

fn validate<'a>(
    shared: &Shared,
    p: &'a HashMap<String, String>,
) -> Result<AuthRequest<'a>, ErrorPage> {
    let get = |k: &str| p.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let bad = |detail: String| error_page(StatusCode::BAD_REQUEST, "invalid_request", &detail);
    let missing = |name: &str| bad(format!("Missing required parameter: {name}"));
    let client_id = get("client_id").ok_or_else(|| missing("client_id"))?;
    if client_id != shared.client_id {
        return Err(error_page(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The OAuth client was not found.",
        ));
    }
    let redirect_uri = get("redirect_uri").ok_or_else(|| missing("redirect_uri"))?;
    let registered = if shared.redirect_uris.is_empty() {
        redirect_uri.starts_with("http://") || redirect_uri.starts_with("https://")
    } else {
        shared.redirect_uris.iter().any(|u| u == redirect_uri)
    };
    if !registered {
        return Err(error_page(
            StatusCode::BAD_REQUEST,
            "redirect_uri_mismatch",
            &format!(
                "You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 policy. Request details: redirect_uri={redirect_uri}"
            ),
        ));
    }
    let response_type = get("response_type").ok_or_else(|| missing("response_type"))?;
    if response_type != "code" {
        return Err(bad(format!(
            "Unsupported response_type: {response_type}. This fake supports the authorization code flow only."
        )));
    }
    let scope = get("scope").ok_or_else(|| missing("scope"))?;
    let code_challenge = get("code_challenge");
    match (code_challenge, get("code_challenge_method")) {
        (Some(_), Some("S256")) | (None, None) => {}
        (None, Some(_)) => return Err(missing("code_challenge")),
        (Some(_), method) => {
            return Err(bad(format!(
                "Invalid code_challenge_method: {}. Only S256 is accepted.",
                method.unwrap_or("plain")
            )));
        }
    }
    let offline = match get("access_type") {
        None | Some("online") => false,
        Some("offline") => true,
        Some(other) => return Err(bad(format!("Invalid access_type: {other}"))),
    };
    Ok(AuthRequest {
        client_id,
        redirect_uri,
        scope,
        state: get("state"),
        code_challenge,
        offline,
    })
}

/// `GET /o/oauth2/v2/auth`: the account chooser.
pub(crate) async fn authorize(
    State(shared): State<Arc<Shared>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let request = match validate(&shared, &params) {
        Ok(r) => r,
        Err(page) => return page.into_response(),
    };
    let hint = params.get("login_hint").map(|h| h.to_ascii_lowercase());
    let mut order: Vec<usize> = (0..shared.accounts.len()).collect();
    order.sort_by_key(|&i| Some(shared.accounts[i].email.to_ascii_lowercase()) != hint);
    let mut hidden = String::new();
    let mut keys: Vec<&String> = params.keys().collect();
    keys.sort();
    for k in keys {
        hidden.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            esc(k),
            esc(&params[k])
        ));
    }
    let accounts: String = order
        .iter()
        .map(|&i| {
            let a = &shared.accounts[i];
            let initial = a.name.chars().next().unwrap_or('?');
            let suggested = if Some(a.email.to_ascii_lowercase()) == hint {
                "<div class=\"hint\">Suggested</div>"
            } else {
                ""
            };
            format!(
                "<button class=\"account\" type=\"submit\" name=\"account\" value=\"{}\"><span class=\"avatar\">{}</span><span><div>{}</div><div class=\"email\">{}</div>{suggested}</span></button>",
                esc(&a.email),
                esc(&initial.to_string()),
                esc(&a.name),
                esc(&a.email)
            )
        })
        .collect();
    let scopes: String = request
        .scope
        .split_whitespace()
        .map(|s| format!("<li>{}</li>", esc(&describe_scope(s))))
        .collect();
    let body = format!(
        "<h1>Fake Google (demo) — choose an account</h1><p class=\"sub\">to continue to <strong>{}</strong></p>\
<form method=\"post\" action=\"/o/oauth2/v2/auth\">{hidden}{accounts}\
<p>This will allow the app to:</p><ul>{scopes}</ul>{}\
<div class=\"actions\"><button class=\"deny\" type=\"submit\" name=\"deny\" value=\"1\">Cancel</button></div></form>",
        esc(request.client_id),
        if request.offline {
            "<p class=\"email\">The app will keep access while you are not using it (offline access).</p>"
        } else {
            ""
        }
    );
    page(StatusCode::OK, "Sign in - Fake Google (demo)", &body)
}

/// `POST /o/oauth2/v2/auth`: the user picked an account or cancelled.
pub(crate) async fn decide(
    State(shared): State<Arc<Shared>>,
    Form(params): Form<HashMap<String, String>>,
) -> Response {
    let request = match validate(&shared, &params) {
        Ok(r) => r,
        Err(page) => return page.into_response(),
    };
    let state = request.state.unwrap_or_default();
    let with_state = |mut list: Vec<(&'static str, String)>| {
        if request.state.is_some() {
            list.push(("state", state.to_string()));
        }
        list
    };
    if params.contains_key("deny") {
        let list = with_state(vec![("error", "access_denied".to_string())]);
        let pairs: Vec<(&str, &str)> = list.iter().map(|(k, v)| (*k, v.as_str())).collect();
        return redirect_with(request.redirect_uri, &pairs);
    }
    let Some(account) = params
        .get("account")
        .and_then(|email| shared.account_index(email))
    else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Choose one of the listed accounts.",
        )
        .into_response();
    };
    let code = shared.tokens().issue_code(Consent {
        account,
        client_id: request.client_id.to_string(),
        redirect_uri: request.redirect_uri.to_string(),
        scope: request.scope.to_string(),
        code_challenge: request.code_challenge.map(str::to_string),
        offline: request.offline,
        nonce: params.get("nonce").cloned(),
    });
    let list = with_state(vec![("code", code), ("scope", request.scope.to_string())]);
    let pairs: Vec<(&str, &str)> = list.iter().map(|(k, v)| (*k, v.as_str())).collect();
    redirect_with(request.redirect_uri, &pairs)
}
