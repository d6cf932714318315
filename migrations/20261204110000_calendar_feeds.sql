-- The user's secret ICS subscription URL (#15): one per user, only its SHA-256 stored.
-- Rotating replaces the digest (the old URL stops at once); revoking deletes the row.
create table calendar_feeds (
  user_id uuid primary key references users (id) on delete cascade,
  token_sha256 bytea not null unique check (length(token_sha256) = 32),
  created_at timestamptz not null default now()
);
