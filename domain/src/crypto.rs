//! Encryption at rest for OAuth tokens: AES-256-GCM with a fresh random nonce per value.
//! The key comes from configuration, or in demo/dev from a file generated once in the
//! data folder (mode 0600).
//!
//! Two stored forms:
//! - bound (what Rapport writes): `0x01 || nonce (12 bytes) || ciphertext+tag`, sealed
//!   with associated data naming the owner (for OAuth tokens, the account id), so a
//!   ciphertext copied into another row does not decrypt there ([`SecretBox::seal_for`]);
//! - legacy (written before the version byte): `nonce || ciphertext+tag`, no associated
//!   data ([`SecretBox::seal`]). Legacy tokens are re-sealed at startup by
//!   `Db::upgrade_token_encryption`; the version byte marks which rows are done.

use std::fmt;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;

const NONCE_LEN: usize = 12;

/// First byte of a value sealed with associated data.
const BOUND_V1: u8 = 1;

/// What Debug output shows in place of a key, token, client secret or password.
pub const REDACTED: &str = "[redacted]";

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("the encryption key must be 32 bytes, base64-encoded")]
    BadKey,
    #[error(
        "stored secret could not be decrypted (wrong key, corrupted data, or copied from another account)"
    )]
    Decrypt,
    #[error("key file {path}: {source}")]
    KeyFile {
        path: String,
        source: std::io::Error,
    },
}

/// Encrypts and decrypts secrets. Debug output never shows the key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

impl SecretBox {
    pub fn from_base64(key: &str) -> Result<Self, CryptoError> {
        let bytes = STANDARD
            .decode(key.trim())
            .map_err(|_| CryptoError::BadKey)?;
        Self::from_bytes(&bytes)
    }

    fn from_bytes(key: &[u8]) -> Result<Self, CryptoError> {
        let cipher = Aes256Gcm::new_from_slice(key).map_err(|_| CryptoError::BadKey)?;
        Ok(Self { cipher })
    }

    /// Reads the key file, creating it (0600, random key) the first time.
    pub fn load_or_create(path: &Path) -> Result<Self, CryptoError> {
        let err = |source| CryptoError::KeyFile {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(path) {
            Ok(key) => Self::from_base64(&key),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                rand::rng().fill_bytes(&mut key);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(err)?;
                }
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)
                    .map_err(err)?;
                file.write_all(STANDARD.encode(key).as_bytes())
                    .map_err(err)?;
                Self::from_bytes(&key)
            }
            Err(e) => Err(err(e)),
        }
    }

    pub fn seal(&self, plaintext: &str) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plaintext.as_bytes())
            .expect("AES-GCM encryption does not fail for in-memory buffers");
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        sealed
    }

    /// Seals `plaintext` bound to `owner` (associated data, e.g. the account id): only
    /// [`SecretBox::open_for`] with the same owner opens it.
    pub fn seal_for(&self, plaintext: &str, owner: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: owner,
                },
            )
            .expect("AES-GCM encryption does not fail for in-memory buffers");
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        sealed.push(BOUND_V1);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        sealed
    }

    /// Opens a value sealed by [`SecretBox::seal_for`] for the same `owner`. Legacy
    /// values (no associated data) and values sealed for another owner fail.
    pub fn open_for(&self, sealed: &[u8], owner: &[u8]) -> Result<String, CryptoError> {
        let Some((&BOUND_V1, rest)) = sealed.split_first() else {
            return Err(CryptoError::Decrypt);
        };
        if rest.len() <= NONCE_LEN {
            return Err(CryptoError::Decrypt);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let plaintext = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: owner,
                },
            )
            .map_err(|_| CryptoError::Decrypt)?;
        String::from_utf8(plaintext).map_err(|_| CryptoError::Decrypt)
    }

    /// Re-seals a stored value for `owner`: `Ok(None)` when it already is (nothing to
    /// write), `Ok(Some(new))` for a legacy value, an error when neither form opens.
    /// A legacy value whose random nonce starts with the version byte is still told
    /// apart: it does not open as a bound one (the tag fails), so it is upgraded.
    pub fn reseal_for(&self, sealed: &[u8], owner: &[u8]) -> Result<Option<Vec<u8>>, CryptoError> {
        if self.open_for(sealed, owner).is_ok() {
            return Ok(None);
        }
        let plaintext = self.open(sealed)?;
        Ok(Some(self.seal_for(&plaintext, owner)))
    }

    /// Opens a legacy value (sealed by [`SecretBox::seal`], no associated data).
    pub fn open(&self, sealed: &[u8]) -> Result<String, CryptoError> {
        if sealed.len() <= NONCE_LEN {
            return Err(CryptoError::Decrypt);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let plaintext = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| CryptoError::Decrypt)?;
        String::from_utf8(plaintext).map_err(|_| CryptoError::Decrypt)
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn secret_box() -> SecretBox {
        SecretBox::from_base64(&STANDARD.encode([7u8; 32])).unwrap()
    }

    #[test]
    fn round_trips_and_hides_the_plaintext() {
        let sb = secret_box();
        let sealed = sb.seal("ya29.secret-access-token");
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        assert_eq!(sb.open(&sealed).unwrap(), "ya29.secret-access-token");
    }

    #[test]
    fn every_seal_uses_a_fresh_nonce() {
        let sb = secret_box();
        assert_ne!(sb.seal("same"), sb.seal("same"));
    }

    #[test]
    fn tampering_and_wrong_keys_are_detected() {
        let sb = secret_box();
        let mut sealed = sb.seal("token");
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(sb.open(&sealed).is_err());
        let other = SecretBox::from_base64(&STANDARD.encode([8u8; 32])).unwrap();
        assert!(other.open(&sb.seal("token")).is_err());
        assert!(sb.open(b"short").is_err());
    }

    #[test]
    fn bound_values_open_only_for_their_owner() {
        let sb = secret_box();
        let sealed = sb.seal_for("1//refresh", b"account-a");
        assert_eq!(sealed[0], BOUND_V1);
        assert_eq!(sb.open_for(&sealed, b"account-a").unwrap(), "1//refresh");
        assert!(matches!(
            sb.open_for(&sealed, b"account-b"),
            Err(CryptoError::Decrypt)
        ));
        assert!(
            sb.open(&sealed).is_err(),
            "a bound value is not a legacy one"
        );
        assert!(
            sb.open_for(&sb.seal("legacy"), b"account-a").is_err(),
            "a legacy value does not open as bound"
        );
    }

    #[test]
    fn legacy_values_are_resealed_once() {
        let sb = secret_box();
        let legacy = sb.seal("ya29.token");
        let bound = sb.reseal_for(&legacy, b"account-a").unwrap().unwrap();
        assert_eq!(sb.open_for(&bound, b"account-a").unwrap(), "ya29.token");
        assert_eq!(sb.reseal_for(&bound, b"account-a").unwrap(), None);
        // A legacy nonce may start with the version byte by chance.
        let mut nonce_one = legacy.clone();
        while nonce_one[0] != BOUND_V1 {
            nonce_one = sb.seal("ya29.token");
        }
        let upgraded = sb.reseal_for(&nonce_one, b"account-a").unwrap().unwrap();
        assert_eq!(sb.open_for(&upgraded, b"account-a").unwrap(), "ya29.token");
        assert!(sb.reseal_for(b"garbage-garbage-garbage", b"a").is_err());
    }

    #[test]
    fn rejects_keys_of_the_wrong_size() {
        assert!(SecretBox::from_base64(&STANDARD.encode([1u8; 16])).is_err());
        assert!(SecretBox::from_base64("not base64!").is_err());
    }

    #[test]
    fn creates_a_private_key_file_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/secret.key");
        let first = SecretBox::load_or_create(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let again = SecretBox::load_or_create(&path).unwrap();
        assert_eq!(again.open(&first.seal("x")).unwrap(), "x");
    }
}
