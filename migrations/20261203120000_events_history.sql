-- Everything that happens is an event (api::events): besides what open tabs should hear
-- (`live`: NOTIFY + the SSE stream), events now record history that is never sent to a
-- browser (sign-ins, mail processed, contacts created/merged/enriched/viewed, questions
-- asked, notes written). The live stream reads only live rows; export reads all.
alter table events add column live boolean not null default true;

-- The live stream's reads (`id > last seen` per user) skip recorded-only rows.
create index events_live_by_user on events (user_id, id) where live;

-- Retention deletes by age; rows are appended in time order, so a BRIN index is tiny.
create index events_by_time on events using brin (created_at);
