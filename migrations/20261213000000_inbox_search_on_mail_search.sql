-- The inbox's search box now uses the mail search (`activity_search`, its GIN index
-- keyed by user): the same language as /search, over the subject, body, participants
-- and attachment names. The two trigram indexes that served its substring match are
-- no longer read by any query, and they were the dearest part of storing an activity:
-- about 40 us of PostgreSQL time per short message for the subject and snippet alone
-- (half of all the activity's index writes), more for longer snippets and for every
-- sender row.
drop index activities_inbox_search;
drop index participants_sender_search;
