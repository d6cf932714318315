//! Each channel's stored key and settings, read from the database once and then kept for
//! [`KEPT_FOR`]: checking a webhook's key was a query (a pool checkout and a round trip)
//! for every webhook, a fifth of what the endpoint asked of Postgres at 1,500 webhooks a
//! second. The presented key is still compared with the stored digest every time, and
//! whatever changes a channel's key or state in this process (rotating, disabling,
//! deleting its account or user) forgets the channel at once; the time limit covers a
//! change made by another process.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::{ChannelDefaults, ChannelProvider, KeyHash};
use crate::UserId;

/// How long a channel read from the database is trusted without reading it again.
const KEPT_FOR: Duration = Duration::from_secs(10);
/// Channels kept at most; past it the cache starts over (channels are few per user, and
/// only channels with a right key are kept, so only a huge install gets here).
const MAX_CHANNELS: usize = 10_000;

/// A channel as stored: who owns it, how its payloads are read, its key's digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredChannel {
    pub user: UserId,
    pub account: Uuid,
    pub provider: ChannelProvider,
    pub defaults: ChannelDefaults,
    pub key: KeyHash,
    pub enabled: bool,
}

#[derive(Debug, Default)]
pub(crate) struct ChannelKeyCache {
    kept: Mutex<Kept>,
}

#[derive(Debug, Default)]
struct Kept {
    channels: HashMap<Uuid, (Instant, StoredChannel)>,
    /// Counts the forgettings: a read that began before one is not kept, since it may
    /// have seen the channel as it was before the change.
    generation: u64,
}

/// Where a read of a channel began; see [`ChannelKeyCache::keep`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReadStart(u64);

impl ChannelKeyCache {
    /// The channel as last read, unless that was too long ago; otherwise where the
    /// caller's read of it begins.
    pub fn get(&self, channel: Uuid) -> Result<StoredChannel, ReadStart> {
        let kept = self.lock();
        match kept.channels.get(&channel) {
            Some((read_at, stored)) if read_at.elapsed() < KEPT_FOR => Ok(stored.clone()),
            _ => Err(ReadStart(kept.generation)),
        }
    }

    /// Keeps a channel read since `start`, unless it was forgotten meanwhile. Only
    /// channels whose key was presented right are kept: unknown ids and wrong keys are
    /// read every time, so they cannot fill the cache.
    pub fn keep(&self, channel: Uuid, stored: StoredChannel, start: ReadStart) {
        let mut kept = self.lock();
        if kept.generation != start.0 {
            return;
        }
        if kept.channels.len() >= MAX_CHANNELS {
            kept.channels.clear();
        }
        kept.channels.insert(channel, (Instant::now(), stored));
    }

    /// After the channel's key or state changed.
    pub fn forget(&self, channel: Uuid) {
        let mut kept = self.lock();
        kept.generation += 1;
        kept.channels.remove(&channel);
    }

    /// After the user's accounts (and with them channels) were deleted.
    pub fn forget_user(&self, user: UserId) {
        let mut kept = self.lock();
        kept.generation += 1;
        kept.channels.retain(|_, (_, stored)| stored.user != user);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::{Channel, Direction};

    fn stored(user: u128) -> StoredChannel {
        StoredChannel {
            user: UserId(Uuid::from_u128(user)),
            account: Uuid::from_u128(100 + user),
            provider: ChannelProvider::Generic,
            defaults: ChannelDefaults {
                channel: Channel::Sms,
                direction: Direction::Inbound,
            },
            key: KeyHash::of("key"),
            enabled: true,
        }
    }

    #[test]
    fn a_kept_channel_is_read_until_forgotten() {
        let cache = ChannelKeyCache::default();
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let start = cache.get(a).expect_err("nothing kept yet");
        cache.keep(a, stored(1), start);
        cache.keep(b, stored(2), start);
        assert_eq!(cache.get(a).ok(), Some(stored(1)));
        cache.forget(a);
        assert!(cache.get(a).is_err());
        assert_eq!(cache.get(b).ok(), Some(stored(2)));
        cache.forget_user(UserId(Uuid::from_u128(2)));
        assert!(cache.get(b).is_err());
    }

    #[test]
    fn a_read_that_began_before_a_change_is_not_kept() {
        let cache = ChannelKeyCache::default();
        let a = Uuid::from_u128(1);
        let start = cache.get(a).expect_err("nothing kept yet");
        // The key is rotated while the read is on its way back.
        cache.forget(a);
        cache.keep(a, stored(1), start);
        assert!(cache.get(a).is_err());
    }
}
