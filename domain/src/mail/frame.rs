//! The document the mail frame loads: a message's sanitized HTML with a fixed style
//! sheet, and the Content-Security-Policy that is the second lock on remote content.
//! Sanitizing already removed scripts and moved remote image URLs out of `src`; the
//! policy makes sure that anything the sanitizer missed still cannot run or load, and
//! that remote images load only after the user allowed them for this message.

use std::sync::LazyLock;

use base64::Engine;
use sha2::{Digest, Sha256};

/// Readable defaults for mail that brings no styles (the sanitizer removes theirs), and
/// a visible placeholder where a blocked remote image would be.
const STYLE: &str = "body{margin:0;padding:12px 14px;font:15px/1.5 system-ui,sans-serif;\
color:#1f2328;background:#fff;overflow-wrap:anywhere}\
img{max-width:100%;height:auto}\
img[data-remote-src]:not([src]){display:inline-block;min-width:40px;min-height:20px;\
border:1px dashed #8c959f;background:#f6f8fa;color:#57606a;font-size:12px}\
details.quote>summary{cursor:pointer;color:#57606a}\
blockquote{margin:0 0 0 .8ex;border-left:2px solid #d0d7de;padding-left:1ex}\
table{max-width:100%}";

static STYLE_HASH: LazyLock<String> = LazyLock::new(|| {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE.as_bytes()))
});

/// A complete HTML document and the policy to serve it with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameDocument {
    pub html: String,
    pub content_security_policy: String,
}

/// Wraps `body` (output of [`super::frame_html`]) for the frame.
pub fn document(body: &str, remote_images_allowed: bool) -> FrameDocument {
    let html = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\">\
         <meta name=\"referrer\" content=\"no-referrer\"><style>{STYLE}</style></head>\
         <body>{body}</body></html>"
    );
    FrameDocument {
        html,
        content_security_policy: content_security_policy(remote_images_allowed),
    }
}

/// Nothing runs, nothing but images loads, and images only from `data:` until the user
/// allowed remote ones. `sandbox` holds even when the document is opened on its own,
/// outside the page's sandboxed frame; only this site may frame it.
pub fn content_security_policy(remote_images_allowed: bool) -> String {
    let images = if remote_images_allowed {
        "img-src data: https: http:"
    } else {
        "img-src data:"
    };
    format!(
        "default-src 'none'; {images}; style-src 'sha256-{}'; base-uri 'none'; \
         form-action 'none'; frame-ancestors 'self'; \
         sandbox allow-popups allow-popups-to-escape-sandbox",
        *STYLE_HASH
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocked_frames_load_no_remote_images_and_run_nothing() {
        let csp = content_security_policy(false);
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert!(csp.contains("img-src data:;"), "{csp}");
        assert!(!csp.contains("http"), "{csp}");
        assert!(
            !csp.contains("script-src") && !csp.contains("allow-scripts"),
            "{csp}"
        );
        assert!(!csp.contains("allow-same-origin"), "{csp}");
    }

    #[test]
    fn allowed_frames_load_remote_images_only() {
        let csp = content_security_policy(true);
        assert!(csp.contains("img-src data: https: http:;"), "{csp}");
        assert!(csp.contains("default-src 'none'"), "{csp}");
    }

    #[test]
    fn the_style_sheet_matches_its_hash() {
        let doc = document("<p>hi</p>", false);
        assert!(doc.html.contains(&format!("<style>{STYLE}</style>")));
        assert!(
            doc.content_security_policy
                .contains(&format!("'sha256-{}'", *STYLE_HASH))
        );
        assert_eq!(STYLE_HASH.len(), 44, "base64 of 32 bytes");
    }
}
