-- The users with activities waiting (raw or failed), each once, found by skipping
-- through the per-user claim index (one probe per user): where both the processors'
-- claim and their idle look for the next due activity start. Walking the waiting
-- activities themselves read a whole import each time.
create view activity_waiting_users as
with recursive waiting(user_id) as (
  (select user_id from activities where state in ('raw', 'failed')
   order by user_id limit 1)
  union all
  select (select a.user_id from activities a
          where a.state in ('raw', 'failed') and a.user_id > w.user_id
          order by a.user_id limit 1)
  from waiting w where w.user_id is not null)
select user_id from waiting where user_id is not null;

-- Adds deliveries (channel id, received, duplicates, dropped; one row per channel) to
-- the channels' counters on the rows of the calling connection's shard, so concurrent
-- writers on different connections never wait for each other's commit. A zero count
-- still marks the channel as heard from now. Used by the webhook groups and the call
-- callbacks; plpgsql, so its plan is made once per connection. Returns the channels
-- counted.
create function count_channel_deliveries(uuid[], int8[], int8[], int8[])
returns integer language plpgsql as $$
declare
  counted integer;
begin
  insert into ingestion_channel_counts
    (channel_id, shard, received, duplicates, dropped, last_received_at)
  select t.channel_id, pg_backend_pid() % 16, t.received, t.duplicates, t.dropped, now()
  from unnest($1, $2, $3, $4) as t(channel_id, received, duplicates, dropped)
  on conflict (channel_id, shard) do update
    set received = ingestion_channel_counts.received + excluded.received,
        duplicates = ingestion_channel_counts.duplicates + excluded.duplicates,
        dropped = ingestion_channel_counts.dropped + excluded.dropped,
        last_received_at = greatest(ingestion_channel_counts.last_received_at,
                                    excluded.last_received_at);
  get diagnostics counted = row_count;
  return counted;
end $$;
