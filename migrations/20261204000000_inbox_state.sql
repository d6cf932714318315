-- The unified inbox: an activity leaves it when marked done (it stays on the timeline) or
-- dismissed (it leaves the timeline too, and a source that syncs it again must not bring
-- it back: a dismissed calendar event stays dismissed).
alter table activities
  add column done_at timestamptz,
  add column dismissed_at timestamptz;
