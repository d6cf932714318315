-- Call recordings and their transcripts.
--
-- A recording arrives by a provider callback (Twilio's recording status callback, keyed
-- by RecordingSid), inside a call status callback, or as an audio attachment of a generic
-- webhook. It is kept under its call's external id (CallSid) and linked to the call's
-- activity when that exists; a callback that comes before the call waits here
-- (`activity_id` null) and is joined when the call is stored. The audio is fetched by a
-- `recording.download` job into the content-addressed file store, so playback never
-- depends on the provider; `transcript_*` hold the transcript with its segments.
create table call_recordings (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users (id) on delete cascade,
  account_id uuid not null,
  call_external_id text not null check (call_external_id <> ''),
  recording_sid text not null check (recording_sid <> ''),
  activity_id uuid,
  source_url text not null,
  provider_status text,
  duration_secs integer check (duration_secs >= 0),
  download_state text not null default 'queued'
    check (download_state in ('queued', 'stored', 'failed')),
  content_sha256 bytea check (length(content_sha256) = 32),
  size_bytes bigint check (size_bytes >= 0),
  content_type text,
  last_error text,
  transcript_state text not null default 'none'
    check (transcript_state in ('none', 'queued', 'done', 'failed')),
  transcript_text text,
  -- [{"start": seconds, "end": seconds, "text": "..."}], in order.
  transcript_segments jsonb not null default '[]',
  transcript_source text check (transcript_source in ('model', 'provider')),
  transcript_model text,
  transcript_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (account_id, recording_sid),
  unique (user_id, id),
  foreign key (user_id, account_id) references accounts (user_id, id) on delete cascade,
  foreign key (user_id, activity_id) references activities (user_id, id) on delete cascade,
  check ((download_state = 'stored') = (content_sha256 is not null))
);
create index call_recordings_waiting on call_recordings (account_id, call_external_id)
  where activity_id is null;
create index call_recordings_by_activity on call_recordings (activity_id)
  where activity_id is not null;
create trigger call_recordings_updated_at before update on call_recordings
  for each row execute function set_updated_at();

-- Per channel: the provider credentials recordings are fetched with (Twilio's account
-- SID and auth token, the token sealed with SecretBox bound to the channel id), and the
-- last download error, which the channel's settings show.
create table channel_recording_settings (
  channel_id uuid primary key,
  user_id uuid not null,
  account_sid text check (account_sid <> ''),
  auth_token_sealed bytea,
  last_error text,
  last_error_at timestamptz,
  updated_at timestamptz not null default now(),
  foreign key (user_id, channel_id) references ingestion_channels (user_id, id) on delete cascade,
  check ((account_sid is null) = (auth_token_sealed is null))
);
