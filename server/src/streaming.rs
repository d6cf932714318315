//! Multipart uploads read part by part and chunk by chunk, so a file of any size costs
//! one chunk of memory; used by the mbox import and by contact file uploads. Also the
//! limits both share: small form fields, files per request, the storage quota, and
//! uploads in flight per user.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use app::{AppError, ErrorKind};
use axum::extract::multipart::{Field, MultipartError};
use domain::files::human_size;
use uuid::Uuid;

/// Where the chunks of an uploaded part go; it may refuse one (a size limit, a wrong
/// file type), which ends the upload.
pub trait ChunkSink {
    type Error: From<MultipartError>;

    fn write(&mut self, chunk: &[u8]) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

/// Hands each chunk of `field` to `sink` as it arrives; stops at the first error (the
/// sink's or the request's). Returns the bytes read.
pub async fn stream_field<S: ChunkSink>(
    field: &mut Field<'_>,
    sink: &mut S,
) -> Result<u64, S::Error> {
    let mut read: u64 = 0;
    while let Some(chunk) = field.chunk().await? {
        read += chunk.len() as u64;
        sink.write(&chunk).await?;
    }
    Ok(read)
}

/// Largest non-file part (a name, say) an upload reads.
pub const FIELD_LIMIT: usize = 1024;

/// Reads a small text part chunk by chunk, refusing it (413) as soon as it passes
/// [`FIELD_LIMIT`], so an oversize part is never buffered.
pub async fn read_small_field(field: &mut Field<'_>) -> Result<String, AppError> {
    let name = field.name().unwrap_or("form").to_owned();
    let mut text = Vec::new();
    while let Some(chunk) = field.chunk().await? {
        if text.len() + chunk.len() > FIELD_LIMIT {
            return Err(AppError::new(
                ErrorKind::TooLarge,
                format!(
                    "the {name} field is larger than the {} KiB a form field may be",
                    FIELD_LIMIT / 1024
                ),
            ));
        }
        text.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&text).into_owned())
}

/// What limits one user's uploads: files per request, storage, uploads at once.
#[derive(Debug, Clone)]
pub struct UploadLimits {
    pub max_files: usize,
    pub storage_quota: u64,
    pub slots: UploadSlots,
}

impl UploadLimits {
    pub fn too_many_files(&self) -> AppError {
        AppError::new(
            ErrorKind::TooLarge,
            format!("an upload may carry at most {} files", self.max_files),
        )
    }

    /// What the user may still store, given what they use.
    pub async fn room(&self, scope: &domain::UserScope<'_>) -> Result<Quota, AppError> {
        let used = scope.files().storage_used().await?;
        Ok(Quota {
            limit: self.storage_quota,
            used,
        })
    }
}

/// A user's storage quota during one upload; bytes are added as they arrive.
#[derive(Debug, Clone, Copy)]
pub struct Quota {
    limit: u64,
    used: u64,
}

impl Quota {
    /// Counts `bytes` more; refuses (413) once past the quota.
    pub fn take(&mut self, bytes: u64) -> Result<(), AppError> {
        self.used = self.used.saturating_add(bytes);
        if self.used > self.limit {
            return Err(AppError::new(
                ErrorKind::TooLarge,
                format!(
                    "storage quota exceeded: each user may keep {} of files and imports",
                    human_size(self.limit)
                ),
            ));
        }
        Ok(())
    }
}

/// How many uploads each user has in flight, so one user cannot hold every connection.
#[derive(Debug, Clone)]
pub struct UploadSlots {
    per_user: usize,
    running: Arc<Mutex<HashMap<Uuid, usize>>>,
}

/// Seconds a refused uploader is told to wait.
const RETRY_AFTER_SECS: u64 = 5;

impl UploadSlots {
    pub fn new(per_user: usize) -> Self {
        Self {
            per_user,
            running: Arc::default(),
        }
    }

    /// A place for one upload of `user`, held until the guard drops; 429 with
    /// `Retry-After` when the user already runs as many as allowed.
    pub fn acquire(&self, user: Uuid) -> Result<UploadSlot, AppError> {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        let count = running.entry(user).or_default();
        if *count >= self.per_user {
            return Err(AppError::rate_limited(
                format!(
                    "too many uploads: at most {} uploads at a time per user; try again when one has finished",
                    self.per_user
                ),
                RETRY_AFTER_SECS,
            ));
        }
        *count += 1;
        Ok(UploadSlot {
            slots: self.clone(),
            user,
        })
    }
}

/// One upload in flight; dropping it frees the place.
#[derive(Debug)]
pub struct UploadSlot {
    slots: UploadSlots,
    user: Uuid,
}

impl Drop for UploadSlot {
    fn drop(&mut self) {
        let mut running = self.slots.running.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = running.get_mut(&self.user) {
            *count -= 1;
            if *count == 0 {
                running.remove(&self.user);
            }
        }
    }
}
