//! Messenger and Instagram conversations, the AI sales agent, the catalog and orders:
//! their closed sets.

use crate::closed_set::closed_set;

closed_set! {
    /// Where a Meta conversation lives (`meta_conversations.platform`).
    MetaPlatform, "platform" {
        Messenger = "messenger",
        Instagram = "instagram",
    }
}

impl MetaPlatform {
    /// The activity channel its messages are stored as.
    pub fn channel(self) -> crate::Channel {
        match self {
            Self::Messenger => crate::Channel::Messenger,
            Self::Instagram => crate::Channel::Instagram,
        }
    }
}

closed_set! {
    /// Who wrote a message of a conversation (`meta_messages.sender`).
    SenderType, "sender type" {
        Customer = "customer",
        /// A person, from the Page (Meta's inbox) or from Rapport's reply box.
        Employee = "employee",
        /// Rapport's AI sales agent.
        Agent = "agent",
    }
}

closed_set! {
    /// Where a conversation stands (`meta_conversations.status`).
    ConversationStatus, "conversation status" {
        New = "new",
        Open = "open",
        /// Handed to a person: the agent does not answer.
        Pending = "pending",
        Closed = "closed",
    }
}

closed_set! {
    /// An order's progress (`orders.status`).
    OrderStatus, "order status" {
        New = "new",
        Confirmed = "confirmed",
        Shipped = "shipped",
        Cancelled = "cancelled",
    }
}

closed_set! {
    /// How an agent turn ended (`agent_turns.outcome`).
    TurnOutcome, "turn outcome" {
        /// The model is working, or the worker stopped before the turn ended.
        Running = "running",
        Replied = "replied",
        /// The customer needs a person: the conversation is pending, nothing was sent.
        Handoff = "handoff",
        /// The customer's last message is older than Meta's 24-hour window.
        OutsideWindow = "outside_window",
        /// The toggle was switched off, or a person answered, before the send.
        Cancelled = "cancelled",
        Failed = "failed",
    }
}
