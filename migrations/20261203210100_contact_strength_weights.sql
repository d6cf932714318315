-- Strength scores a contact's mail by weight, halving every 180 days
-- (domain::contacts::strength). The weights as of computed_at, for the contact page's
-- explanation of what weighs most. Rows get them at the next stats refresh.
alter table contact_stats
  add column sent_weight float8 not null default 0,
  add column received_weight float8 not null default 0,
  add column recent_weight float8 not null default 0;
