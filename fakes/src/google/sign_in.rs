//! Signing in to a running fake without a browser: pick `email` on the consent page,
//! then exchange the code (with PKCE) for an access token. For tests and benchmarks that
//! need a Gmail token but are not testing the sign-in itself.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// An OAuth client registered with the fake (`FakeGoogleConfig::client_id`/`client_secret`).
pub struct OAuthClient<'a> {
    pub client_id: &'a str,
    pub client_secret: &'a str,
}

/// The access token Google would hand `client` after `email` consents.
pub async fn access_token(
    base_url: &str,
    client: &OAuthClient<'_>,
    email: &str,
) -> Result<String, String> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let verifier = "a-verifier-of-sufficient-length-for-pkce-0123456789";
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let redirect = "http://localhost:3000/auth/google/callback";
    let consent = http
        .post(format!("{base_url}/o/oauth2/v2/auth"))
        .form(&[
            ("client_id", client.client_id),
            ("redirect_uri", redirect),
            ("response_type", "code"),
            (
                "scope",
                "openid email https://www.googleapis.com/auth/gmail.readonly",
            ),
            ("state", "fake-sign-in"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("account", email),
        ])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let location = consent
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| format!("the consent page answered {}", consent.status()))?;
    let code = reqwest::Url::parse(location)
        .map_err(|e| e.to_string())?
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .ok_or_else(|| format!("no code in {location}"))?;
    let token: serde_json::Value = http
        .post(format!("{base_url}/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("code_verifier", verifier),
            ("redirect_uri", redirect),
            ("client_id", client.client_id),
            ("client_secret", client.client_secret),
        ])
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    token["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no access token: {token}"))
}
