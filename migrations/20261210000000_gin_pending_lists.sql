-- The GIN indexes every stored message writes keep their fast-update pending lists but
-- flush them in smaller batches. With the default 4 MB, the insert that crosses the
-- limit merges the whole list into the index itself; in a Fastmail first sync of 10,000
-- messages one round of 200 took 1.0-1.1 s instead of about 70 ms, a stall that the
-- ordered pipeline cannot hide and that a webhook caught at that moment waits out.
-- With 256 kB the longest round measured was 0.6 s.
alter index activity_search_doc set (gin_pending_list_limit = 256);
alter index activities_inbox_search set (gin_pending_list_limit = 256);
alter index participants_sender_search set (gin_pending_list_limit = 256);
