-- Undoing a merge gives the loser back the enrichment results that were its own: the
-- lookups keyed by one of its addresses or handles (which the un-merge has just moved
-- back to it) or by its id (the user's own data), with their values, and drops the
-- copies of its X posts from the winner (unless the winner's own X lookup found the
-- same posts). Both contacts are due again, so each is looked up with what it now has.
create function enrichment_contact_unmerged() returns trigger language plpgsql as $$
declare
  winner uuid := old.merged_into;
  -- The loser's request keys, lowercased.
  keys text[] := array(
    select new.id::text
    union select lower(value) from contact_identities
      where user_id = new.user_id and contact_id = new.id
    -- X lookups are keyed by the handle of the contact's X link (`@dana`, a URL).
    union select lower(substring(new.links ->> 'twitter' from '([A-Za-z0-9_]+)/?(?:\?.*)?$'))
      where new.links ? 'twitter'
  );
begin
  update enrichments e set contact_id = new.id
    where e.user_id = new.user_id and e.contact_id = winner
      and lower(e.request_key) = any (keys)
      and not exists (select 1 from enrichments l where l.user_id = new.user_id
        and l.contact_id = new.id and l.provider = e.provider and l.request_key = e.request_key);
  update enrichment_values v set contact_id = new.id
    where v.user_id = new.user_id and v.contact_id = winner
      and lower(v.request_key) = any (keys)
      and not exists (select 1 from enrichment_values l where l.user_id = new.user_id
        and l.contact_id = new.id and l.field = v.field and l.source = v.source
        and l.request_key = v.request_key);
  delete from enrichment_posts w
    using enrichment_posts l
    where w.user_id = new.user_id and w.contact_id = winner
      and l.user_id = new.user_id and l.contact_id = new.id and l.post_id = w.post_id
      and not exists (select 1 from enrichments x where x.user_id = new.user_id
        and x.contact_id = winner and x.provider = 'x' and x.status = 'found'
        and lower(x.request_key) = lower(w.handle));
  insert into enrichment_due (user_id, contact_id)
    values (new.user_id, new.id), (new.user_id, winner)
    on conflict (user_id, contact_id) do update set due_at = now();
  return null;
end $$;
create trigger contacts_enrichment_unmerged after update of merged_into on contacts
  for each row when (old.merged_into is not null and new.merged_into is null)
  execute function enrichment_contact_unmerged();
