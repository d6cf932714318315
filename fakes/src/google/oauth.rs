//! Google's OAuth 2.0 token machinery: authorization codes (single use,
//! PKCE-bound, ten-minute life), access tokens, refresh tokens, revocation
//! and the OpenID userinfo endpoint.
//!
//! The `id_token` is a well-formed but *unsigned* JWT (`"alg":"none"`):
//! the fake has no keys to publish, so clients must not verify it against
//! Google's JWKS in demo mode. It carries `sub`, `email`, `name` etc. so
//! code reading claims works unchanged.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::errors::OAuthError;
use super::state::Shared;

const CODE_LIFETIME: Duration = Duration::from_secs(600);

/// What the user approved on the consent page.
pub(crate) struct Consent {
    pub account: usize,
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub code_challenge: Option<String>,
    pub offline: bool,
    pub nonce: Option<String>,
}

struct CodeGrant {
    consent: Consent,
    expires: Instant,
    /// Tokens minted from this code; revoked if the code is replayed
    /// (RFC 6749 §4.1.2).
    issued: Option<Vec<String>>,
}

struct AccessGrant {
    account: usize,
    scope: String,
    expires: Instant,
    refresh: Option<String>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct RefreshGrant {
    account: usize,
    client_id: String,
    scope: String,
}

/// A validated bearer token.
pub(crate) struct Bearer {
    pub account: usize,
    pub scope: String,
}

pub(crate) struct Tokens {
    rng: ChaCha20Rng,
    codes: HashMap<String, CodeGrant>,
    access: HashMap<String, AccessGrant>,
    refresh: HashMap<String, RefreshGrant>,
    refresh_file: Option<PathBuf>,
}

impl Tokens {
    /// Seeded from the config seed and the clock: reproducible enough for
    /// debugging, different across restarts so stale tokens never work.
    pub(crate) fn new(seed: u64, refresh_file: Option<PathBuf>) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Tokens {
            rng: ChaCha20Rng::seed_from_u64(seed ^ nanos),
            codes: HashMap::new(),
            access: HashMap::new(),
            refresh: refresh_file
                .as_deref()
                .map(load_refresh_grants)
                .unwrap_or_default(),
            refresh_file,
        }
    }

    /// Writes the refresh grants to the configured file, if any. A failed write only
    /// costs the demo user a reconnect after the next restart, so it is logged, not fatal.
    fn persist_refresh(&self) {
        let Some(path) = &self.refresh_file else {
            return;
        };
        let written = serde_json::to_vec(&self.refresh)
            .map_err(std::io::Error::other)
            .and_then(|bytes| std::fs::write(path, bytes));
        if let Err(error) = written {
            tracing::warn!(%error, path = %path.display(), "could not save the fake Google's refresh grants");
        }
    }

    fn random(&mut self, prefix: &str, len: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let tail: String = (0..len)
            .map(|_| ALPHABET[self.rng.random_range(0..ALPHABET.len())] as char)
            .collect();
        format!("{prefix}{tail}")
    }

    pub(crate) fn issue_code(&mut self, consent: Consent) -> String {
        let code = self.random("4/0A", 70);
        self.codes.insert(
            code.clone(),
            CodeGrant {
                consent,
                expires: Instant::now() + CODE_LIFETIME,
                issued: None,
            },
        );
        code
    }

    fn issue_access(
        &mut self,
        account: usize,
        scope: &str,
        ttl: Duration,
        refresh: Option<String>,
    ) -> String {
        let token = self.random("ya29.a0", 120);
        self.access.insert(
            token.clone(),
            AccessGrant {
                account,
                scope: scope.to_string(),
                expires: Instant::now() + ttl,
                refresh,
            },
        );
        token
    }

    /// The account and scopes behind a live access token.
    pub(crate) fn bearer(&mut self, token: &str) -> Option<Bearer> {
        let grant = self.access.get(token)?;
        if grant.expires <= Instant::now() {
            self.access.remove(token);
            return None;
        }
        Some(Bearer {
            account: grant.account,
            scope: grant.scope.clone(),
        })
    }

    /// Revokes a refresh token (with its access tokens) or an access token
    /// (with the refresh token it came from, as Google does).
    fn revoke(&mut self, token: &str) -> bool {
        let refresh = if let Some(grant) = self.access.remove(token) {
            grant.refresh
        } else if self.refresh.contains_key(token) {
            Some(token.to_string())
        } else {
            return false;
        };
        if let Some(refresh) = refresh {
            self.refresh.remove(&refresh);
            self.access
                .retain(|_, g| g.refresh.as_deref() != Some(refresh.as_str()));
            self.persist_refresh();
        }
        true
    }

    /// Drops every token of one account; returns how many were live.
    pub(crate) fn revoke_account(&mut self, account: usize) -> usize {
        let before = self.access.len() + self.refresh.len();
        self.access.retain(|_, g| g.account != account);
        self.refresh.retain(|_, g| g.account != account);
        self.persist_refresh();
        before - self.access.len() - self.refresh.len()
    }
}

/// Refresh grants saved by an earlier run; a missing or unreadable file means none.
fn load_refresh_grants(path: &Path) -> HashMap<String, RefreshGrant> {
    std::fs::read(path)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// `Authorization: Bearer ...` → the grant behind it.
pub(crate) fn bearer(shared: &Shared, headers: &HeaderMap) -> Option<Bearer> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    shared.tokens().bearer(token.trim())
}

fn pkce_matches(challenge: &str, verifier: &str) -> bool {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == challenge
}

/// Client credentials from HTTP Basic or the form body (RFC 6749 §2.3.1).
fn client_credentials(
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> (Option<String>, Option<String>) {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            s.split_once(':')
                .map(|(i, p)| (i.to_string(), p.to_string()))
        });
    match basic {
        Some((id, secret)) => (Some(id), Some(secret)),
        None => (
            form.get("client_id").cloned(),
            form.get("client_secret").cloned(),
        ),
    }
}

fn name_parts(name: &str) -> (&str, &str) {
    name.split_once(' ').unwrap_or((name, ""))
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Unsigned JWT (`alg: none`, empty signature) with Google's usual claims.
fn id_token(shared: &Shared, account: usize, client_id: &str, nonce: Option<&str>) -> String {
    let a = &shared.accounts[account];
    let (given, family) = name_parts(&a.name);
    let iat = now_secs();
    let mut claims = json!({
        "iss": shared.issuer(),
        "azp": client_id,
        "aud": client_id,
        "sub": a.subject(),
        "email": a.email,
        "email_verified": shared.email_verified(account),
        "name": a.name,
        "picture": a.picture,
        "given_name": given,
        "family_name": family,
        "iat": iat,
        "exp": iat + 3600,
    });
    if let Some(nonce) = nonce {
        claims["nonce"] = json!(nonce);
    }
    let head = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{head}.{body}.")
}

/// `POST /token`.
pub(crate) async fn token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return OAuthError::invalid_request("Invalid request body").into_response();
    };
    match exchange(&shared, &headers, &form) {
        Ok(body) => Json(body).into_response(),
        Err(e) => e.into_response(),
    }
}

fn exchange(
    shared: &Shared,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<Value, OAuthError> {
    let (client_id, secret) = client_credentials(headers, form);
    let client_id = client_id.ok_or_else(|| {
        OAuthError::invalid_request("Could not determine client ID from request.")
    })?;
    if client_id != shared.client_id {
        return Err(OAuthError::unknown_client());
    }
    if secret.as_deref() != Some(shared.client_secret.as_str()) {
        return Err(OAuthError::wrong_client_secret());
    }
    let grant_type = form.get("grant_type").map_or("", String::as_str);
    let ttl = shared.token_ttl();
    let param = |name: &str| {
        form.get(name)
            .ok_or_else(|| OAuthError::missing_parameter(name))
    };
    match grant_type {
        "authorization_code" => {
            let code = param("code")?;
            let redirect_uri = param("redirect_uri")?;
            let mut tokens = shared.tokens();
            let grant = tokens
                .codes
                .get_mut(code)
                .ok_or_else(OAuthError::invalid_grant)?;
            if let Some(issued) = grant.issued.take() {
                for t in issued {
                    tokens.revoke(&t);
                }
                return Err(OAuthError::invalid_grant());
            }
            let c = &grant.consent;
            let verified = match (&c.code_challenge, form.get("code_verifier")) {
                (Some(challenge), Some(verifier)) => pkce_matches(challenge, verifier),
                (Some(_), None) => false,
                (None, _) => true,
            };
            if grant.expires <= Instant::now()
                || c.client_id != client_id
                || &c.redirect_uri != redirect_uri
                || !verified
            {
                return Err(OAuthError::invalid_grant());
            }
            let (account, scope, offline, nonce) =
                (c.account, c.scope.clone(), c.offline, c.nonce.clone());
            let refresh = offline.then(|| tokens.random("1//0g", 100));
            if let Some(r) = &refresh {
                tokens.refresh.insert(
                    r.clone(),
                    RefreshGrant {
                        account,
                        client_id: client_id.clone(),
                        scope: scope.clone(),
                    },
                );
                tokens.persist_refresh();
            }
            let access = tokens.issue_access(account, &scope, ttl, refresh.clone());
            if let Some(grant) = tokens.codes.get_mut(code) {
                grant.issued = Some(refresh.iter().cloned().chain([access.clone()]).collect());
            }
            drop(tokens);
            let mut body = token_body(
                shared,
                &access,
                ttl,
                &scope,
                account,
                &client_id,
                nonce.as_deref(),
            );
            if let Some(r) = refresh {
                body["refresh_token"] = json!(r);
            }
            Ok(body)
        }
        "refresh_token" => {
            let refresh = param("refresh_token")?;
            let mut tokens = shared.tokens();
            let grant = tokens
                .refresh
                .get(refresh)
                .filter(|g| g.client_id == client_id)
                .ok_or_else(OAuthError::invalid_grant)?;
            let (account, scope) = (grant.account, grant.scope.clone());
            let access = tokens.issue_access(account, &scope, ttl, Some(refresh.clone()));
            drop(tokens);
            Ok(token_body(
                shared, &access, ttl, &scope, account, &client_id, None,
            ))
        }
        other => Err(OAuthError::unsupported_grant_type(other)),
    }
}

fn token_body(
    shared: &Shared,
    access: &str,
    ttl: Duration,
    scope: &str,
    account: usize,
    client_id: &str,
    nonce: Option<&str>,
) -> Value {
    let mut body = json!({
        "access_token": access,
        "expires_in": ttl.as_secs(),
        "scope": scope,
        "token_type": "Bearer",
    });
    if scope.split(' ').any(|s| s == "openid") {
        body["id_token"] = json!(id_token(shared, account, client_id, nonce));
    }
    body
}

/// `POST /revoke` with `token` in the query string or the form body.
pub(crate) async fn revoke(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
    form: Result<Form<HashMap<String, String>>, axum::extract::rejection::FormRejection>,
) -> Response {
    let token = query
        .get("token")
        .cloned()
        .or_else(|| form.ok().and_then(|Form(f)| f.get("token").cloned()));
    let Some(token) = token else {
        return OAuthError::missing_parameter("token").into_response();
    };
    if shared.tokens().revoke(&token) {
        Json(json!({})).into_response()
    } else {
        OAuthError::invalid_token().into_response()
    }
}

/// `GET /v1/userinfo` and `GET /oauth2/v3/userinfo`.
pub(crate) async fn userinfo(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let Some(b) = bearer(&shared, &headers) else {
        return OAuthError::userinfo_unauthorized().into_response();
    };
    let a = &shared.accounts[b.account];
    let (given, family) = name_parts(&a.name);
    // Like Google, profile and email claims need their scopes.
    let mut info = json!({"sub": a.subject()});
    if b.scope
        .split(' ')
        .any(|s| s == "profile" || s.ends_with("/userinfo.profile"))
    {
        info["picture"] = json!(a.picture);
        info["name"] = json!(a.name);
        info["given_name"] = json!(given);
        info["family_name"] = json!(family);
    }
    if b.scope
        .split(' ')
        .any(|s| s == "email" || s.ends_with("/userinfo.email"))
    {
        info["email"] = json!(a.email);
        info["email_verified"] = json!(shared.email_verified(b.account));
    }
    Json(info).into_response()
}

/// `GET /.well-known/openid-configuration`, so OIDC libraries can be
/// pointed at the fake with nothing but its base URL.
pub(crate) async fn discovery(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let base = shared.issuer();
    Json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/o/oauth2/v2/auth"),
        "token_endpoint": format!("{base}/token"),
        "userinfo_endpoint": format!("{base}/v1/userinfo"),
        "revocation_endpoint": format!("{base}/revoke"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["none"],
        "scopes_supported": ["openid", "email", "profile"],
        "code_challenge_methods_supported": ["S256"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
    }))
}
