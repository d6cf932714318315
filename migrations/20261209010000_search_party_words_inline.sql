-- `search_party_words` as one expression, so PostgreSQL inlines it into its callers.
-- As a set-returning query it ran as a function call of its own, twice per participant
-- inside `search_people_doc`; that made the `activity_search_people` trigger the
-- costliest step of storing mail (about 0.2 ms per message, more than inserting the
-- activity). Same words, same order, `{}` for null or nothing: the documents and the
-- `from:` / `to:` queries built from it do not change.
create or replace function search_party_words(t text) returns text[]
language sql immutable parallel safe as $$
  select coalesce(array_remove(regexp_split_to_array(lower(t), '[^[:alnum:]]+'), ''), '{}')
$$;
