//! Google as identity and mail provider: the OAuth 2.0 authorization-code flow with PKCE,
//! OpenID userinfo, refresh and revocation. Every endpoint comes from configuration, so
//! tests and demo mode point the same code at the fake Google on 127.0.0.1.

use chrono::{DateTime, Duration, Utc};
use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope,
    TokenResponse, TokenUrl,
};
use serde::Deserialize;

pub const GMAIL_READONLY: &str = "https://www.googleapis.com/auth/gmail.readonly";
pub const SCOPES: [&str; 4] = ["openid", "email", "profile", GMAIL_READONLY];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoogleEndpoints {
    pub auth_url: String,
    pub token_url: String,
    pub revoke_url: String,
    pub userinfo_url: String,
    /// Base of the Gmail API (`{base}/gmail/v1/users/me/...`).
    pub gmail_api: String,
}

impl GoogleEndpoints {
    pub fn google() -> Self {
        Self {
            auth_url: "https://accounts.google.com/o/oauth2/v2/auth".into(),
            token_url: "https://oauth2.googleapis.com/token".into(),
            revoke_url: "https://oauth2.googleapis.com/revoke".into(),
            userinfo_url: "https://openidconnect.googleapis.com/v1/userinfo".into(),
            gmail_api: "https://gmail.googleapis.com".into(),
        }
    }

    /// All endpoints under one base URL, as the fake Google serves them.
    pub fn under(base: &str) -> Self {
        let base = base.trim_end_matches('/');
        Self {
            auth_url: format!("{base}/o/oauth2/v2/auth"),
            token_url: format!("{base}/token"),
            revoke_url: format!("{base}/revoke"),
            userinfo_url: format!("{base}/v1/userinfo"),
            gmail_api: base.to_owned(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GoogleError {
    /// The code or refresh token is no longer valid: the user must consent again.
    #[error("Google no longer accepts this grant; sign in again")]
    InvalidGrant,
    #[error("Google refused the request: {0}")]
    Refused(String),
    #[error("could not reach Google: {0}")]
    Transport(String),
    #[error("unexpected answer from Google: {0}")]
    Protocol(String),
    #[error("invalid Google configuration: {0}")]
    Config(String),
}

/// What the browser is sent to, and what we must remember to finish the flow.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    pub url: String,
    pub state: String,
    pub pkce_verifier: String,
}

/// Tokens from a code exchange or a refresh. `refresh_token` is None when Google did not
/// send one (refreshes never do): the stored one stays valid.
#[derive(Clone)]
pub struct TokenGrant {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for TokenGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenGrant")
            .field("expires_at", &self.expires_at)
            .field("scopes", &self.scopes)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GoogleProfile {
    #[serde(rename = "sub")]
    pub subject: String,
    pub email: String,
    /// Google checked that the user owns `email`. Missing counts as unverified: sign-in
    /// refuses such profiles, since anyone could otherwise claim an address.
    #[serde(default)]
    pub email_verified: bool,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub picture: Option<String>,
}

type ConfiguredClient =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// Debug output never shows the client secret.
#[derive(Clone)]
pub struct GoogleOAuth {
    client_id: String,
    client_secret: String,
    redirect_uri: String,
    endpoints: GoogleEndpoints,
    http: reqwest::Client,
}

impl std::fmt::Debug for GoogleOAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoogleOAuth")
            .field("client_id", &self.client_id)
            .field("client_secret", &crate::crypto::REDACTED)
            .field("redirect_uri", &self.redirect_uri)
            .field("endpoints", &self.endpoints)
            .finish()
    }
}

impl GoogleOAuth {
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        redirect_uri: impl Into<String>,
        endpoints: GoogleEndpoints,
    ) -> Result<Self, GoogleError> {
        let http = reqwest::Client::builder()
            // Following redirects from a token endpoint would open the door to SSRF.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|e| GoogleError::Config(e.to_string()))?;
        let oauth = Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            redirect_uri: redirect_uri.into(),
            endpoints,
            http,
        };
        oauth.client()?;
        Ok(oauth)
    }

    pub fn endpoints(&self) -> &GoogleEndpoints {
        &self.endpoints
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    fn client(&self) -> Result<ConfiguredClient, GoogleError> {
        let bad =
            |what: &str, e: oauth2::url::ParseError| GoogleError::Config(format!("{what}: {e}"));
        Ok(BasicClient::new(ClientId::new(self.client_id.clone()))
            .set_client_secret(ClientSecret::new(self.client_secret.clone()))
            .set_auth_uri(
                AuthUrl::new(self.endpoints.auth_url.clone()).map_err(|e| bad("auth url", e))?,
            )
            .set_token_uri(
                TokenUrl::new(self.endpoints.token_url.clone()).map_err(|e| bad("token url", e))?,
            )
            .set_redirect_uri(
                RedirectUrl::new(self.redirect_uri.clone()).map_err(|e| bad("redirect uri", e))?,
            ))
    }

    /// The consent URL: PKCE S256, a random state, offline access and a forced consent
    /// screen so Google returns a refresh token every time.
    pub fn authorization_request(
        &self,
        login_hint: Option<&str>,
    ) -> Result<AuthorizationRequest, GoogleError> {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let client = self.client()?;
        let mut request = client
            .authorize_url(CsrfToken::new_random)
            .add_scopes(SCOPES.iter().map(|s| Scope::new((*s).to_owned())))
            .set_pkce_challenge(challenge)
            .add_extra_param("access_type", "offline")
            .add_extra_param("prompt", "consent")
            .add_extra_param("include_granted_scopes", "true");
        if let Some(hint) = login_hint {
            request = request.add_extra_param("login_hint", hint.to_owned());
        }
        let (url, state) = request.url();
        Ok(AuthorizationRequest {
            url: url.to_string(),
            state: state.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    pub async fn exchange_code(
        &self,
        code: &str,
        pkce_verifier: &str,
    ) -> Result<TokenGrant, GoogleError> {
        let response = self
            .client()?
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(token_error)?;
        Ok(grant(&response))
    }

    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenGrant, GoogleError> {
        let response = self
            .client()?
            .exchange_refresh_token(&RefreshToken::new(refresh_token.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(token_error)?;
        Ok(grant(&response))
    }

    /// Revokes a refresh token (and with it its access tokens) at Google. A plain POST:
    /// the oauth2 crate refuses non-https revocation URLs, which the fake Google uses.
    pub async fn revoke(&self, refresh_token: &str) -> Result<(), GoogleError> {
        let response = self
            .http
            .post(&self.endpoints.revoke_url)
            .form(&[("token", refresh_token)])
            .send()
            .await
            .map_err(|e| GoogleError::Transport(e.to_string()))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(GoogleError::Refused(format!(
                "revoke answered {}",
                response.status()
            )))
        }
    }

    pub async fn userinfo(&self, access_token: &str) -> Result<GoogleProfile, GoogleError> {
        let response = self
            .http
            .get(&self.endpoints.userinfo_url)
            .bearer_auth(access_token)
            .send()
            .await
            .map_err(|e| GoogleError::Transport(e.to_string()))?;
        if !response.status().is_success() {
            return Err(GoogleError::Refused(format!(
                "userinfo answered {}",
                response.status()
            )));
        }
        response
            .json()
            .await
            .map_err(|e| GoogleError::Protocol(format!("userinfo: {e}")))
    }
}

fn grant(response: &oauth2::basic::BasicTokenResponse) -> TokenGrant {
    let lifetime = response
        .expires_in()
        .unwrap_or(std::time::Duration::from_secs(3600));
    TokenGrant {
        access_token: response.access_token().secret().clone(),
        refresh_token: response.refresh_token().map(|t| t.secret().clone()),
        expires_at: Utc::now() + Duration::from_std(lifetime).unwrap_or(Duration::hours(1)),
        scopes: response
            .scopes()
            .map(|scopes| scopes.iter().map(|s| s.to_string()).collect())
            .unwrap_or_else(|| SCOPES.iter().map(|s| (*s).to_owned()).collect()),
    }
}

fn token_error<RE: std::error::Error + 'static>(
    error: RequestTokenError<RE, oauth2::basic::BasicErrorResponse>,
) -> GoogleError {
    match error {
        RequestTokenError::ServerResponse(response)
            if *response.error() == BasicErrorResponseType::InvalidGrant =>
        {
            GoogleError::InvalidGrant
        }
        RequestTokenError::ServerResponse(response) => GoogleError::Refused(response.to_string()),
        RequestTokenError::Request(e) => GoogleError::Transport(e.to_string()),
        other => GoogleError::Protocol(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_consent_url_asks_for_offline_gmail_access_with_pkce() {
        let oauth = GoogleOAuth::new(
            "client",
            "secret",
            "http://127.0.0.1:3000/auth/google/callback",
            GoogleEndpoints::google(),
        )
        .unwrap();
        let request = oauth
            .authorization_request(Some("ada@example.com"))
            .unwrap();
        let url = oauth2::url::Url::parse(&request.url).unwrap();
        let params: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(params["response_type"], "code");
        assert_eq!(params["client_id"], "client");
        assert_eq!(params["code_challenge_method"], "S256");
        assert_eq!(params["access_type"], "offline");
        assert_eq!(params["prompt"], "consent");
        assert_eq!(params["login_hint"], "ada@example.com");
        assert_eq!(params["state"], request.state);
        assert!(params["scope"].split(' ').any(|s| s == GMAIL_READONLY));
        assert!(request.pkce_verifier.len() >= 43);
        let other = oauth.authorization_request(None).unwrap();
        assert_ne!(other.state, request.state, "a fresh state each time");
    }

    #[test]
    fn endpoints_under_a_base_url() {
        let endpoints = GoogleEndpoints::under("http://127.0.0.1:4010/");
        assert_eq!(endpoints.token_url, "http://127.0.0.1:4010/token");
        assert_eq!(endpoints.gmail_api, "http://127.0.0.1:4010");
    }

    #[test]
    fn debug_output_never_shows_tokens() {
        let grant = TokenGrant {
            access_token: "ya29.very-secret".into(),
            refresh_token: Some("1//refresh-secret".into()),
            expires_at: Utc::now(),
            scopes: vec![],
        };
        let shown = format!("{grant:?}");
        assert!(!shown.contains("secret"), "{shown}");
    }

    #[test]
    fn debug_output_never_shows_the_client_secret() {
        let oauth = GoogleOAuth::new(
            "client-id",
            "GOCSPX-client-secret-value",
            "http://127.0.0.1/cb",
            GoogleEndpoints::under("http://127.0.0.1:4010"),
        )
        .unwrap();
        let shown = format!("{oauth:?}");
        assert!(!shown.contains("GOCSPX-client-secret-value"), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
    }
}
