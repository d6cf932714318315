//! Content-addressed file storage: `<root>/<aa>/<bb>/<sha256 hex>`. An upload is written
//! to `<root>/incoming/` while it is hashed, then renamed into place, so a half-written
//! or refused upload never appears under a content address, and the same bytes uploaded
//! twice are stored once.

use std::path::PathBuf;

use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::FileError;

/// A SHA-256 digest of a file's bytes: its address in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ContentHash([u8; 32]);

impl ContentHash {
    pub fn from_stored(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Where uploaded files live.
#[derive(Debug, Clone)]
pub struct FileStore {
    root: PathBuf,
}

impl FileStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The path of the file with this content.
    /// Deletes content this upload created, when the upload is abandoned after all.
    pub async fn discard(&self, content: &StoredContent) -> Result<(), FileError> {
        if content.created {
            tokio::fs::remove_file(self.path_of(&content.hash)).await?;
        }
        Ok(())
    }

    pub fn path_of(&self, hash: &ContentHash) -> PathBuf {
        let hex = hash.hex();
        self.root.join(&hex[..2]).join(&hex[2..4]).join(hex)
    }

    /// Starts receiving a file; feed it with [`IncomingFile::write`].
    pub async fn begin(&self, limit: u64) -> Result<IncomingFile, FileError> {
        let incoming = self.root.join("incoming");
        tokio::fs::create_dir_all(&incoming).await?;
        let path = incoming.join(uuid::Uuid::new_v4().to_string());
        let file = tokio::fs::File::create(&path).await?;
        Ok(IncomingFile {
            store: self.clone(),
            path,
            file: Some(file),
            hasher: Sha256::new(),
            size: 0,
            limit,
        })
    }
}

/// A file being received. Dropping it without [`IncomingFile::finish`] deletes what was
/// written.
#[derive(Debug)]
pub struct IncomingFile {
    store: FileStore,
    path: PathBuf,
    file: Option<tokio::fs::File>,
    hasher: Sha256,
    size: u64,
    limit: u64,
}

/// A file stored under its content address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredContent {
    pub hash: ContentHash,
    pub size: u64,
    /// This upload put the content there (it was not stored before).
    pub created: bool,
}

impl IncomingFile {
    /// Appends a chunk; refuses (and the caller drops this) once the file passes its limit.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), FileError> {
        self.size += chunk.len() as u64;
        if self.size > self.limit {
            return Err(FileError::TooLarge(self.limit));
        }
        self.hasher.update(chunk);
        let file = self.file.as_mut().ok_or(FileError::Finished)?;
        file.write_all(chunk).await?;
        Ok(())
    }

    /// Flushes to disk and moves the file to its content address.
    pub async fn finish(mut self) -> Result<StoredContent, FileError> {
        let mut file = self.file.take().ok_or(FileError::Finished)?;
        file.flush().await?;
        file.sync_all().await?;
        drop(file);
        let hash = ContentHash(self.hasher.clone().finalize().into());
        let target = self.store.path_of(&hash);
        if let Some(dir) = target.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        // Same content already stored: keep that copy (the drop removes this one).
        if tokio::fs::try_exists(&target).await? {
            return Ok(StoredContent {
                hash,
                size: self.size,
                created: false,
            });
        }
        tokio::fs::rename(&self.path, &target).await?;
        Ok(StoredContent {
            hash,
            size: self.size,
            created: true,
        })
    }
}

impl Drop for IncomingFile {
    fn drop(&mut self) {
        // Gone already after a rename; otherwise this is a refused or duplicate upload.
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn files_are_stored_by_content_once_and_refusals_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path());
        let mut first = store.begin(100).await.unwrap();
        first.write(b"hello ").await.unwrap();
        first.write(b"world").await.unwrap();
        let stored = first.finish().await.unwrap();
        assert_eq!(stored.size, 11);
        assert!(stored.created);
        assert_eq!(
            stored.hash.hex(),
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
        );
        let path = store.path_of(&stored.hash);
        assert!(path.starts_with(dir.path().join("b9").join("4d")));
        assert_eq!(std::fs::read(&path).unwrap(), b"hello world");

        let mut again = store.begin(100).await.unwrap();
        again.write(b"hello world").await.unwrap();
        let duplicate = again.finish().await.unwrap();
        assert_eq!((duplicate.hash, duplicate.created), (stored.hash, false));

        let mut big = store.begin(4).await.unwrap();
        assert!(matches!(
            big.write(b"12345").await,
            Err(FileError::TooLarge(4))
        ));
        drop(big);
        let incoming: Vec<_> = std::fs::read_dir(dir.path().join("incoming"))
            .unwrap()
            .collect();
        assert!(incoming.is_empty(), "{incoming:?}");
    }
}
