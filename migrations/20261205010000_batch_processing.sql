-- Activity processing works in batches of one user's activities (see
-- domain/src/processing/processor.rs).

-- A worker claims the due activities of one user at a time.
create index activities_claimable_by_user on activities (user_id, next_attempt_at, id)
  where state in ('raw', 'failed');

-- Contacts whose stats refresh failed (the batch that touched them committed without
-- it): refreshed again with the user's next batch, or by an idle processor, until it
-- succeeds. Written only by processing, which holds the user while it does.
create table contact_stats_stale (
  user_id uuid not null,
  contact_id uuid not null,
  queued_at timestamptz not null default now(),
  primary key (user_id, contact_id),
  foreign key (user_id, contact_id) references contacts (user_id, id) on delete cascade
);
