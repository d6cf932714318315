-- Personal API tokens for the programmatic API (/api/v1): an agent or script acts as the
-- user who made the token. The token is shown once; only its SHA-256 is kept, with a
-- short prefix so the user can tell tokens apart. Revoking keeps the row (and its
-- last use) for the record; a revoked token never authenticates again.
create table api_tokens (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users (id) on delete cascade,
  name text not null check (btrim(name) <> '' and length(name) <= 80),
  token_sha256 bytea not null unique check (length(token_sha256) = 32),
  display_prefix text not null check (display_prefix <> ''),
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at timestamptz,
  unique (user_id, id)
);
create index api_tokens_by_user on api_tokens (user_id, created_at);
