//! Deliberately broken messages. Real inboxes contain mail from buggy
//! senders; the sync and extraction pipeline must survive each of these
//! without crashing or inventing contacts.

use chrono::{DateTime, Utc};

use super::MessageKind;
use super::encode::date;
use super::render::{Ctx, Rendered};

/// The ways a message can be broken, cycled through by malformed index.
const VARIANTS: u32 = 5;

pub(crate) fn render(ctx: &Ctx<'_>, variant: u32, at: DateTime<Utc>, owner: &str) -> Rendered {
    let id = ctx.message_id(0);
    let date = date(at.fixed_offset());
    let raw: Vec<u8> = match variant % VARIANTS {
        // A continuation line without leading whitespace.
        0 => format!(
            "MIME-Version: 1.0\r\nDate: {date}\r\nMessage-ID: {id}\r\nSubject: Your order has shipped and\r\nwill arrive on Tuesday\r\nFrom: Order Desk <orders@shop-desk.example-mail.net>\r\nTo: {owner}\r\nContent-Type: text/plain; charset=\"UTF-8\"\r\n\r\nYour order is on its way.\r\n"
        )
        .into_bytes(),
        // No Date header at all.
        1 => format!(
            "MIME-Version: 1.0\r\nMessage-ID: {id}\r\nSubject: (no date)\r\nFrom: printer@office-scan.example-mail.net\r\nTo: {owner}\r\nContent-Type: text/plain; charset=\"us-ascii\"\r\n\r\nScanned document attached.\r\n"
        )
        .into_bytes(),
        // Unknown charset label over Latin-1 bytes that are not valid UTF-8.
        2 => {
            let mut raw = format!(
                "MIME-Version: 1.0\r\nDate: {date}\r\nMessage-ID: {id}\r\nSubject: Gruesse\r\nFrom: Kundenservice <service@versand.example-mail.net>\r\nTo: {owner}\r\nContent-Type: text/plain; charset=\"x-unknown-8bit\"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            )
            .into_bytes();
            raw.extend_from_slice(b"Gr\xfc\xdfe aus K\xf6ln, Ihre Bestellung \xe0 \xa310.\r\n");
            raw
        }
        // Multipart whose attachment is cut off mid-base64, no closing boundary.
        3 => format!(
            "MIME-Version: 1.0\r\nDate: {date}\r\nMessage-ID: {id}\r\nSubject: Scan\r\nFrom: Scanner <scanner@office-scan.example-mail.net>\r\nTo: {owner}\r\nContent-Type: multipart/mixed; boundary=\"b1_trunc\"\r\n\r\n--b1_trunc\r\nContent-Type: text/plain; charset=\"UTF-8\"\r\n\r\nSee attachment.\r\n--b1_trunc\r\nContent-Type: application/pdf; name=\"scan.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKMSAwIG9iajw8L1R5cGUvQ2F0YWxv"
        )
        .into_bytes(),
        // Bare LF line endings and raw 8-bit UTF-8 in a header.
        _ => format!(
            "MIME-Version: 1.0\nDate: {date}\nMessage-ID: {id}\nSubject: Rückruf erbeten\nFrom: Jörg Bäcker <joerg@altmail.example-mail.net>\nTo: {owner}\nContent-Type: text/plain; charset=\"UTF-8\"\n\nBitte rufen Sie zurück.\n"
        )
        .into_bytes(),
    };
    Rendered {
        raw,
        kind: MessageKind::Malformed,
        labels: vec!["INBOX".to_string(), "UNREAD".to_string()],
    }
}
