//! Channel keys: 32 random bytes, base64url, prefixed `rk_` so a leaked key is
//! recognisable. Only the SHA-256 of the key text is stored; checks compare digests in
//! constant time. Personal API tokens ([`crate::api_tokens`]) are made and hashed the
//! same way under their own prefix.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

const PREFIX: &str = "rk_";

/// A freshly generated key. It exists only until it has been shown to the user.
#[derive(Clone, PartialEq, Eq)]
pub struct IngestionKey(String);

impl IngestionKey {
    pub fn generate() -> Self {
        Self(random_secret(PREFIX))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> KeyHash {
        KeyHash::of(&self.0)
    }
}

impl std::fmt::Debug for IngestionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IngestionKey(<redacted>)")
    }
}

/// `prefix` followed by 32 random bytes in base64url (43 characters).
pub(crate) fn random_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The SHA-256 of a key's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyHash(pub [u8; 32]);

impl KeyHash {
    pub fn of(presented: &str) -> Self {
        Self(Sha256::digest(presented.as_bytes()).into())
    }

    /// Reads a stored digest; anything that is not 32 bytes matches no key.
    pub fn from_stored(bytes: &[u8]) -> Self {
        Self(<[u8; 32]>::try_from(bytes).unwrap_or([0; 32]))
    }

    /// Whether `presented` is the key behind this digest, in constant time.
    pub fn matches(&self, presented: &str) -> bool {
        Self::of(presented).0.ct_eq(&self.0).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_matches_its_hash_and_nothing_else() {
        let key = IngestionKey::generate();
        assert!(key.expose().starts_with("rk_"));
        assert_eq!(key.expose().len(), 3 + 43, "32 bytes of base64url");
        let hash = key.hash();
        assert!(hash.matches(key.expose()));
        assert!(!hash.matches(IngestionKey::generate().expose()));
        assert!(!hash.matches(""));
        assert_ne!(IngestionKey::generate(), key, "keys are random");
        assert!(!format!("{key:?}").contains(key.expose()), "never logged");
    }
}
