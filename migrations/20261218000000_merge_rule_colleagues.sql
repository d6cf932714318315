-- Automatic merges by a personal address writing with the work address's colleagues
-- under the same full name (`api::MergeRule::NameAndColleagues`).
alter table contact_merges drop constraint contact_merges_rule_check;
alter table contact_merges add constraint contact_merges_rule_check
  check (rule in ('name_and_phone', 'thread_addresses', 'new_address', 'name_and_colleagues'));
