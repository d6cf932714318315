-- Fastmail / JMAP mail (#22).
-- A message the user already has through another account (same Message-ID) is
-- recorded, not stored twice.
alter table sync_ledger drop constraint sync_ledger_outcome_check;
alter table sync_ledger add constraint sync_ledger_outcome_check check (outcome in (
  'seen', 'imported', 'filtered', 'failed', 'retrying', 'deleted', 'duplicate'));

-- Name patterns: a word matched against a sender's display name and local part
-- ('newsletter', 'no-reply'), for bulk senders whose address varies.
alter table blocklist drop constraint blocklist_kind_check;
alter table blocklist add constraint blocklist_kind_check check (kind in (
  'email', 'domain', 'phone', 'name'));

-- Which users had the default name patterns seeded (once: a pattern they delete stays
-- deleted).
alter table users add column blocklist_seeded_at timestamptz;
