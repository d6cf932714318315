-- Ask Rapport: each user's questions and answers (their chat history), with which engine
-- answered, the tools it called, how long it took and the tokens a model used. Every
-- question is also announced as an `ask.answered` event.
create table ask_messages (
  id bigint generated always as identity primary key,
  user_id uuid not null references users (id) on delete cascade,
  question text not null check (btrim(question) <> '' and length(question) <= 1000),
  answer text not null,
  engine text not null check (btrim(engine) <> ''),
  refused boolean not null,
  tools text[] not null default '{}',
  latency_ms integer not null check (latency_ms >= 0),
  tokens integer not null default 0 check (tokens >= 0),
  created_at timestamptz not null default now()
);
create index ask_messages_by_user on ask_messages (user_id, id desc);
