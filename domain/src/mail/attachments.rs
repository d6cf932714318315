//! Attachment metadata (never the bytes: they stay with the provider) and calendar parts.

use mail_parser::{Message, MessagePart, MimeHeaders, PartType};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentMeta {
    /// Decoded file name (RFC 2231 and RFC 2047 forms are both decoded by mail-parser).
    pub filename: Option<String>,
    /// Lowercased `type/subtype`.
    pub content_type: String,
    /// Decoded size in bytes.
    pub size: usize,
    /// Without angle brackets; what `cid:` URLs in the HTML refer to.
    pub content_id: Option<String>,
    /// Shown inside the body rather than offered as a download.
    pub inline: bool,
}

/// A `text/calendar` (or `.ics`) part: an invitation, reply or cancellation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarPart {
    pub content_type: String,
    /// iTIP method (`REQUEST`, `REPLY`, `CANCEL`), uppercased.
    pub method: Option<String>,
    pub is_attachment: bool,
}

pub(super) fn collect(message: &Message<'_>) -> (Vec<AttachmentMeta>, Vec<CalendarPart>) {
    let attachments: Vec<AttachmentMeta> = message.attachments().map(meta).collect();
    let attachment_offsets: Vec<u32> = message.attachments().map(|p| p.offset_header).collect();
    let calendar = message
        .parts
        .iter()
        .filter(|part| !matches!(part.body, PartType::Multipart(_)))
        .filter_map(|part| {
            let content_type = content_type(part);
            let is_ics = part
                .attachment_name()
                .is_some_and(|n| n.to_ascii_lowercase().ends_with(".ics"));
            (content_type == "text/calendar" || content_type == "application/ics" || is_ics).then(
                || CalendarPart {
                    method: part
                        .content_type()
                        .and_then(|ct| ct.attribute("method"))
                        .map(str::to_uppercase),
                    is_attachment: attachment_offsets.contains(&part.offset_header),
                    content_type,
                },
            )
        })
        .collect();
    (attachments, calendar)
}

fn meta(part: &MessagePart<'_>) -> AttachmentMeta {
    let disposition_inline = part.content_disposition().map(|d| d.is_inline());
    AttachmentMeta {
        filename: part
            .attachment_name()
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty()),
        content_type: content_type(part),
        size: part.body.len(),
        content_id: part.content_id().map(|id| {
            id.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        }),
        inline: disposition_inline.unwrap_or(
            matches!(part.body, PartType::InlineBinary(_)) || part.content_id().is_some(),
        ),
    }
}

fn content_type(part: &MessagePart<'_>) -> String {
    part.content_type()
        .map(|ct| match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub),
            None => ct.ctype().to_owned(),
        })
        .unwrap_or_else(|| "text/plain".to_owned())
        .to_lowercase()
}
