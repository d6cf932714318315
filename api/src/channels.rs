//! Settings → Channels: webhook channels and the blocklist.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Channel, Direction, Provider};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelsData {
    pub channels: Vec<ChannelView>,
    pub blocklist: Vec<BlockView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelView {
    pub id: Uuid,
    pub name: String,
    pub provider: Provider,
    pub default_channel: Channel,
    pub default_direction: Direction,
    pub enabled: bool,
    pub received: i64,
    pub duplicates: i64,
    pub dropped: i64,
    pub last_received_at: Option<DateTime<Utc>>,
    pub key_rotated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockView {
    pub id: Uuid,
    pub entry: String,
    pub hits: i64,
}

/// A newly issued key and where to send webhooks with it. Debug output hides the key.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct IssuedKey {
    pub channel_id: Uuid,
    pub endpoint: String,
    pub key: String,
}

impl std::fmt::Debug for IssuedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedKey")
            .field("channel_id", &self.channel_id)
            .field("endpoint", &self.endpoint)
            .field("key", &"[redacted]")
            .finish()
    }
}

impl IssuedKey {
    pub fn new(channel_id: Uuid, key: String) -> Self {
        Self {
            channel_id,
            endpoint: endpoint(channel_id),
            key,
        }
    }
}

/// Where a channel's webhooks are posted.
pub fn endpoint(channel: Uuid) -> String {
    format!("/ingest/{channel}")
}
