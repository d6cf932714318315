-- The planner's estimate for a word it has no statistics for is a fraction of the
-- rarest word it has: with the default 100-entry sample of lexemes, a number or a name
-- that occurs in four of a million documents was estimated at 400, so an inbox search
-- for a common and a rare word walked the whole inbox newest first looking for 51 matches
-- (1.6 s at 1M activities) instead of reading the search index (0.16 s). A ten times
-- larger sample keeps rare words rare; ANALYZE of the table reads 300,000 rows instead
-- of 30,000.
alter table activity_search alter column doc set statistics 1000;
