-- Reading mail (#19): threads are found when a message is opened, not stored, so they
-- also cover mail ingested before this migration. These indexes serve the three
-- threading rules (provider thread id: activities_by_thread; Message-ID chains; subject).

-- The subject that replies and forwards share: reply/forward prefixes in the common
-- languages removed, whitespace collapsed, lowercased. Must match
-- domain::mail::thread::thread_subject; the Rust side decides, this only narrows.
create function mail_thread_subject(subject text) returns text
  language sql immutable parallel safe as $$
  select nullif(lower(btrim(regexp_replace(
    regexp_replace(subject, '^(\s*(re|fwd?|aw|wg|sv|vs|antw|rif|tr|r)\s*(\[\d+\])?\s*:\s*)+', '', 'i'),
    '\s+', ' ', 'g'))), '')
$$;

create index activities_by_thread_subject on activities (user_id, mail_thread_subject(subject))
  where channel = 'email';

-- The first `References` id is the root of the conversation (RFC 5322 3.6.4); replies
-- without `References` name only their parent in `In-Reply-To`.
create index activities_by_thread_root on activities (user_id, (headers -> 'references' ->> 0))
  where headers -> 'references' ->> 0 is not null;
create index activities_by_reply_parent on activities (user_id, (headers -> 'in_reply_to' ->> 0))
  where headers -> 'in_reply_to' ->> 0 is not null;

-- When the user chose to load this message's remote images (tracking pixels included);
-- until then the mail frame's Content-Security-Policy blocks every remote load.
alter table activities add column remote_images_allowed_at timestamptz;
