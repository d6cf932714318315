//! Cyrus IMAP with its HTTP daemon serving JMAP (and CalDAV).
