-- AI summaries of activities, written after processing by the summariser (only when a
-- model is configured). One row per activity the summariser has taken on: the row is
-- both the work item (state, attempts, lease, backoff) and the result, kept apart from
-- `activities` so that a slow model call never holds a lock on the activity itself.
create table activity_summaries (
  user_id uuid not null,
  activity_id uuid primary key,
  state text not null check (state in ('summarising', 'done', 'failed', 'dead')),
  attempts integer not null default 0 check (attempts >= 0),
  next_attempt_at timestamptz not null default now(),
  claimed_by text,
  lease_expires_at timestamptz,
  last_error text,
  summary text check (summary <> ''),
  model text,
  tokens integer check (tokens >= 0),
  summarised_at timestamptz,
  created_at timestamptz not null default now(),
  foreign key (user_id, activity_id) references activities (user_id, id) on delete cascade,
  check ((state = 'summarising') = (claimed_by is not null and lease_expires_at is not null)),
  check ((state = 'done') = (summary is not null and summarised_at is not null))
);
create index activity_summaries_retry on activity_summaries (next_attempt_at) where state = 'failed';
create index activity_summaries_leased on activity_summaries (lease_expires_at) where state = 'summarising';

-- Activities the summariser may take on, newest first: completed messages of the
-- summarised channels that are not bulk mail and have text.
create index activities_summarisable on activities (occurred_at desc)
  where state = 'completed' and deleted_at is null
    and channel in ('email', 'sms', 'whatsapp', 'call', 'file')
    and processed ->> 'bulk' is null
    and body_text is not null and body_text <> '';
