-- The unified inbox (/inbox): what arrived from every channel that the user has not
-- marked done or dismissed, newest first.

-- When the user opened an item. An email is unread while it carries Gmail's `UNREAD`
-- label and has no `read_at` (reading it in Gmail removes the label); any other
-- channel is unread until opened here.
alter table activities add column read_at timestamptz;

-- One inbox page is one range scan of this index: the user's open, inbound (or
-- meeting) activities newest first, with `id` as the keyset cursor's tie-break. The
-- predicate is repeated word for word in `domain::inbox`, so the planner can use it.
create index activities_inbox on activities (user_id, occurred_at desc, id desc)
  where done_at is null and dismissed_at is null and deleted_at is null
    and (direction = 'inbound' or channel = 'meeting');

-- Searching the inbox: subject and snippet by trigram (same predicate) ...
create index activities_inbox_search on activities
  using gin (user_id, (lower(coalesce(subject, '') || ' ' || coalesce(snippet, ''))) gin_trgm_ops)
  where done_at is null and dismissed_at is null and deleted_at is null
    and (direction = 'inbound' or channel = 'meeting');

-- ... and the sender's name and address (the `from` of a message, a meeting's organizer).
create index participants_sender_search on activity_participants
  using gin (user_id, (lower(coalesce(display_name, '') || ' ' || address)) gin_trgm_ops)
  where role in ('from', 'organizer');
