//! The closed sets stored in `activities`, `accounts` and shown in the UI.

use crate::closed_set::closed_set;

closed_set! {
    /// What kind of communication an activity is (`activities.channel`). Adding a
    /// channel starts here: the database `check`, the UI's filters and icons and the Ask
    /// tools' schemas all read this list.
    Channel, "channel" {
        Email = "email",
        Whatsapp = "whatsapp",
        Sms = "sms",
        Call = "call",
        Meeting = "meeting",
        Messenger = "messenger",
        Instagram = "instagram",
        File = "file",
    }
}

impl Channel {
    /// How the UI names it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Email => "Email",
            Self::Whatsapp => "WhatsApp",
            Self::Sms => "SMS",
            Self::Call => "Call",
            Self::Meeting => "Meeting",
            Self::Messenger => "Messenger",
            Self::Instagram => "Instagram",
            Self::File => "File",
        }
    }

    /// Messages of a chat (one conversation between the same people), which open as a
    /// chat view rather than a thread of mail.
    pub fn is_chat(self) -> bool {
        matches!(
            self,
            Self::Whatsapp | Self::Sms | Self::Messenger | Self::Instagram
        )
    }
}

closed_set! {
    /// Where an activity is in processing (`activities.state`).
    ActivityState, "activity state" {
        /// Stored, waiting for a processor.
        Raw = "raw",
        /// Claimed by a processor under a lease.
        Processing = "processing",
        Completed = "completed",
        /// Failed; retried after its backoff.
        Failed = "failed",
        /// Out of attempts; kept with its error until someone asks for a retry.
        Dead = "dead",
    }
}

closed_set! {
    /// The state of a connected source (`accounts.status`).
    AccountStatus, "account status" {
        Active = "active",
        Syncing = "syncing",
        /// The provider refused our credentials; the user must connect again.
        NeedsReconnect = "needs_reconnect",
        Error = "error",
        /// The user disconnected it; its data stays until the account is deleted.
        Disconnected = "disconnected",
    }
}

closed_set! {
    /// Who a connected source is (`accounts.provider`).
    Provider, "provider" {
        Google = "google",
        Fastmail = "fastmail",
        Caldav = "caldav",
        TimelinesAi = "timelinesai",
        Twilio = "twilio",
        Postmark = "postmark",
        Meta = "meta",
        Generic = "generic",
        Upload = "upload",
        Mbox = "mbox",
        /// What the user logs by hand (interactions): one per user, never synced.
        Manual = "manual",
    }
}

closed_set! {
    /// Whether the user sent or received an activity.
    Direction, "direction" {
        Inbound = "inbound",
        Outbound = "outbound",
    }
}

closed_set! {
    /// What became of one provider item (`sync_ledger.outcome`).
    LedgerOutcome, "ledger outcome" {
        Seen = "seen",
        Imported = "imported",
        /// Left out by a filter rule (spam, bulk, ...).
        Filtered = "filtered",
        Failed = "failed",
        Retrying = "retrying",
        Deleted = "deleted",
        /// The user already has this message (same Message-ID) from another account.
        Duplicate = "duplicate",
    }
}

closed_set! {
    /// How a participant took part in an activity (`activity_participants.role`).
    ParticipantRole, "participant role" {
        From = "from",
        To = "to",
        Cc = "cc",
        Bcc = "bcc",
        Attendee = "attendee",
        Organizer = "organizer",
        Participant = "participant",
    }
}

impl ParticipantRole {
    /// To, Cc or Bcc: someone a message was written to.
    pub fn is_recipient(self) -> bool {
        matches!(self, Self::To | Self::Cc | Self::Bcc)
    }
}

closed_set! {
    /// How a participant or a contact identity is reached
    /// (`activity_participants.address_kind`, `contact_identities.kind`; a contact
    /// identity is never `contact`).
    AddressKind, "address kind" {
        Email = "email",
        Phone = "phone",
        /// Neither: a Twilio client or SIP identity, a chat handle, kept as given.
        Handle = "handle",
        /// A contact picked directly (a file attached to a contact), not an address.
        Contact = "contact",
    }
}

closed_set! {
    /// Who wrote a note (`notes.author_kind`).
    AuthorKind, "author kind" {
        /// The signed-in user.
        User = "user",
        /// An agent through the API, with a personal API token.
        Agent = "agent",
    }
}

closed_set! {
    /// Where a background job is (`jobs.state`).
    JobState, "job state" {
        Queued = "queued",
        /// Claimed by a worker under a lease.
        Running = "running",
        Succeeded = "succeeded",
        /// Out of attempts, or failed permanently; kept with its error.
        Dead = "dead",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ClosedSet;

    #[test]
    fn names_round_trip_through_parse_serde_and_display() {
        fn check<
            T: ClosedSet
                + std::fmt::Debug
                + PartialEq
                + serde::Serialize
                + serde::de::DeserializeOwned,
        >() {
            assert_eq!(T::ALL.len(), T::NAMES.len());
            for (value, name) in T::ALL.iter().zip(T::NAMES) {
                assert_eq!(value.as_str(), *name);
                assert_eq!(T::parse(name).unwrap(), *value);
                let json = format!("\"{name}\"");
                let decoded: T = serde_json_lite(&json);
                assert_eq!(decoded, *value);
            }
        }
        // serde_json is not a dependency of this crate; a JSON string is a quoted name.
        fn serde_json_lite<T: serde::de::DeserializeOwned>(json: &str) -> T {
            let name = json.trim_matches('"').to_owned();
            T::deserialize(serde::de::value::StringDeserializer::<
                serde::de::value::Error,
            >::new(name))
            .unwrap()
        }
        check::<Channel>();
        check::<ActivityState>();
        check::<AccountStatus>();
        check::<Provider>();
        check::<Direction>();
        check::<LedgerOutcome>();
        check::<ParticipantRole>();
        check::<AddressKind>();
        check::<AuthorKind>();
        check::<JobState>();
    }

    #[test]
    fn an_unknown_name_is_refused_with_the_choices() {
        let error = Channel::parse("fax").unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown channel \"fax\": must be one of email, whatsapp, sms, call, meeting, messenger, instagram, file"
        );
        assert!(AccountStatus::parse("Active").is_err());
    }
}
