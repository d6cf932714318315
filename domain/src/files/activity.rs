//! An uploaded file as an activity: channel `file`, in the user's `upload` account,
//! linked to its contact by a participant row of kind `contact` (see the migration), so
//! it shows on the contact's timeline, moves with a merge, and goes through processing
//! like every other activity.

use serde_json::json;
use uuid::Uuid;

use super::{ContentHash, FileName, StoredContent};
use crate::DomainError;
use crate::db::scopes::FilesScope;

/// A received file, ready to be recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFile {
    pub name: FileName,
    pub content_type: String,
    pub content: StoredContent,
}

/// What serving a download needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDownload {
    pub name: FileName,
    pub content_type: String,
    pub hash: ContentHash,
    pub size: u64,
}

impl FilesScope<'_> {
    /// The contact uploads go to: `contact` itself, or the contact it was merged into.
    /// `NotFound` for a contact that is not this user's.
    pub async fn upload_target(self, contact: Uuid) -> Result<Uuid, DomainError> {
        sqlx::query_scalar!(
            r#"select coalesce(merged_into, id) as "id!" from contacts
               where user_id = $1 and id = $2"#,
            self.user.0,
            contact,
        )
        .fetch_optional(self.pool)
        .await?
        .ok_or(DomainError::NotFound("contact"))
    }

    /// Records `file` as a new `file` activity on `contact`; returns its id.
    pub async fn record_file(self, contact: Uuid, file: &NewFile) -> Result<Uuid, DomainError> {
        let contact = self.upload_target(contact).await?;
        let mut tx = self.pool.begin().await?;
        let account = sqlx::query_scalar!(
            r#"insert into accounts (user_id, provider, external_id, display_name)
               values ($1, 'upload', 'files', 'Uploaded files')
               on conflict (user_id, provider, external_id)
                 do update set display_name = accounts.display_name
               returning id"#,
            self.user.0,
        )
        .fetch_one(&mut *tx)
        .await?;
        let size = i64::try_from(file.content.size).unwrap_or(i64::MAX);
        let snippet = format!("{} · {}", file.content_type, human_size(file.content.size));
        let attachment = json!([{
            "file_name": file.name.as_str(),
            "content_type": file.content_type,
            "size": size,
            "sha256": file.content.hash.hex(),
        }]);
        let id = sqlx::query_scalar!(
            r#"insert into activities (user_id, account_id, external_id, channel, occurred_at,
                 subject, snippet, attachments, content_sha256, size_bytes)
               values ($1, $2, $3, 'file', now(), $4, $5, $6, $7, $8)
               returning id"#,
            self.user.0,
            account,
            Uuid::new_v4().to_string(),
            file.name.as_str(),
            snippet,
            attachment,
            file.content.hash.as_bytes().as_slice(),
            size,
        )
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query!(
            r#"insert into activity_participants
                 (user_id, activity_id, role, address_kind, address, contact_id, occurred_at)
               select $1, $2, 'participant', 'contact', $3::uuid::text, $3, occurred_at
               from activities where user_id = $1 and id = $2"#,
            self.user.0,
            id,
            contact,
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The stored file behind one of this user's `file` activities.
    pub async fn file_download(self, activity: Uuid) -> Result<FileDownload, DomainError> {
        let row = sqlx::query!(
            r#"select subject, content_sha256, size_bytes,
                      attachments -> 0 ->> 'content_type' as content_type
               from activities
               where user_id = $1 and id = $2 and channel = 'file' and deleted_at is null"#,
            self.user.0,
            activity,
        )
        .fetch_optional(self.pool)
        .await?
        .ok_or(DomainError::NotFound("file"))?;
        let hash = row
            .content_sha256
            .as_deref()
            .and_then(ContentHash::from_stored)
            .ok_or(DomainError::NotFound("file"))?;
        Ok(FileDownload {
            name: FileName::from_stored(row.subject.unwrap_or_else(|| "file".into())),
            content_type: row
                .content_type
                .unwrap_or_else(|| "application/octet-stream".into()),
            hash,
            size: row
                .size_bytes
                .and_then(|s| u64::try_from(s).ok())
                .unwrap_or(0),
        })
    }
}

impl FilesScope<'_> {
    /// Bytes this user keeps: their stored files (each counted, even when another user
    /// uploaded the same content) plus mbox uploads waiting to be imported.
    pub async fn storage_used(self) -> Result<u64, DomainError> {
        let files = sqlx::query_scalar!(
            r#"select coalesce(sum(size_bytes), 0)::bigint as "bytes!" from activities
               where user_id = $1 and channel = 'file'"#,
            self.user.0,
        )
        .fetch_one(self.pool)
        .await?;
        let mut used = u64::try_from(files).unwrap_or(0);
        for path in self.import_uploads(true).await? {
            if let Ok(meta) = tokio::fs::metadata(&path).await {
                used = used.saturating_add(meta.len());
            }
        }
        Ok(used)
    }

    /// The files of this user's mbox import jobs (`waiting`: only those still queued or
    /// running, whose upload is still on disk).
    pub(crate) async fn import_uploads(
        self,
        waiting: bool,
    ) -> Result<Vec<std::path::PathBuf>, DomainError> {
        let paths = sqlx::query_scalar!(
            r#"select payload ->> 'path' as "path!" from jobs
               where user_id = $1 and kind = 'mbox.import' and payload ->> 'path' is not null
                 and (not $2 or state in ('queued', 'running'))"#,
            self.user.0,
            waiting,
        )
        .fetch_all(self.pool)
        .await?;
        Ok(paths.into_iter().map(std::path::PathBuf::from).collect())
    }
}

/// `1536` -> `1.5 KB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["bytes", "KB", "MB", "GB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::human_size;

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(human_size(12), "12 bytes");
        assert_eq!(human_size(1536), "1.5 KB");
        assert_eq!(human_size(50 * 1024 * 1024), "50.0 MB");
    }
}
