-- Webhook ingest was capped at one commit flush per webhook: every webhook's transaction
-- updated its channel's one row (the counters) and sent NOTIFY, and both serialize
-- commits (the row lock and Postgres's database-wide notify lock are held until the
-- commit is flushed), so concurrent webhooks could not share a flush.

-- 1. The counters move to rows per channel and connection shard: concurrent webhooks
--    on different connections update different rows. Reads sum the shards.
create table ingestion_channel_counts (
  channel_id uuid not null references ingestion_channels (id) on delete cascade,
  shard smallint not null check (shard >= 0),
  received bigint not null default 0 check (received >= 0),
  duplicates bigint not null default 0 check (duplicates >= 0),
  dropped bigint not null default 0 check (dropped >= 0),
  last_received_at timestamptz not null,
  primary key (channel_id, shard)
);
insert into ingestion_channel_counts (channel_id, shard, received, duplicates, dropped,
                                      last_received_at)
select id, 0, received_count, duplicate_count, dropped_count, last_received_at
from ingestion_channels
where last_received_at is not null;
alter table ingestion_channels
  drop column received_count,
  drop column duplicate_count,
  drop column dropped_count,
  drop column last_received_at;

-- 2. A transaction that sets `rapport.wake_later` stores activities without notifying;
--    it wakes the processors after its commit with a NOTIFY of its own that does not
--    wait for a flush (`processing::wake_processors`).
create or replace function notify_activities_claimable() returns trigger language plpgsql as $$
begin
  if current_setting('rapport.wake_later', true) is distinct from 'on' then
    perform pg_notify('rapport_activities', '');
  end if;
  return null;
end $$;
