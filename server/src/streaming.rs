//! Multipart uploads read part by part and chunk by chunk, so a file of any size costs
//! one chunk of memory; used by the mbox import and by contact file uploads.

use axum::extract::multipart::{Field, MultipartError};

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
