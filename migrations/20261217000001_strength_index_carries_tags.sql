-- The default sort's index also carries the tags, so a tag filter walks it as an
-- index-only scan: `?tag=investor` (2% of 100,000 contacts) read a stats row from the heap
-- for each of the ~2,200 entries walked before a page of 50 was found (7-12 ms); from the
-- index it is a filter on the entry. Rare tags are still found through the GIN index.
drop index contact_list_by_strength;
create index contact_list_by_strength on contact_stats (user_id, strength desc, contact_id)
  include (email_count, last_interaction_at, unanswered_inbound, company_id, search_text, tags)
  where listed;
