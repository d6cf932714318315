-- Finding mail by Message-ID: deduplicating an mbox import against synced Gmail, and
-- later threading replies across accounts.
create index activities_by_message_id on activities (user_id, (headers ->> 'message_id'))
  where headers ->> 'message_id' is not null;
