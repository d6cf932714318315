-- Messenger and Instagram (#14): a connected Facebook Page polled for conversations,
-- the AI sales agent's turns and sends, the product catalog and orders.

-- One per connected Page. The Page token and status live in its `accounts` row
-- (provider 'meta', external_id = page id), like every connected source.
create table meta_integrations (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users (id) on delete cascade,
  account_id uuid not null,
  page_id text not null,
  page_name text not null default '',
  instagram_id text,
  graph_url text not null,
  -- Conversations updated at or after this are read by the next poll; moved only after
  -- what it covers is committed. Null before the first (history) import.
  last_fetch_timestamp timestamptz,
  -- Set after a rate-limit answer (codes 4, 17, 32, 613): polls wait until then.
  backoff_until timestamptz,
  ai_default boolean not null default false,
  created_at timestamptz not null default now(),
  unique (user_id, page_id),
  unique (user_id, id),
  foreign key (user_id, account_id) references accounts (user_id, id) on delete cascade
);

create table meta_conversations (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users (id) on delete cascade,
  integration_id uuid not null,
  platform text not null check (platform in ('messenger', 'instagram')),
  conversation_id text not null,
  -- The PSID (Messenger) or IGSID (Instagram) of the customer.
  customer_id text not null,
  customer_name text not null default '',
  contact_id uuid,
  status text not null default 'new' check (status in ('new', 'open', 'pending', 'closed')),
  ai_enabled boolean not null default false,
  -- The agent stays quiet until then after a person replied.
  paused_until timestamptz,
  last_message_at timestamptz,
  last_message_text text,
  created_at timestamptz not null default now(),
  unique (user_id, platform, conversation_id),
  unique (user_id, id),
  foreign key (user_id, integration_id) references meta_integrations (user_id, id) on delete cascade,
  foreign key (user_id, contact_id) references contacts (user_id, id) on delete set null (contact_id)
);
create index meta_conversations_recent on meta_conversations (user_id, last_message_at desc);

create table meta_messages (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users (id) on delete cascade,
  conversation_id uuid not null,
  platform_message_id text not null,
  -- Null for a message older than the 20 Graph returns with details.
  sender text check (sender in ('customer', 'employee', 'agent')),
  text text,
  sent_at timestamptz not null,
  is_old boolean not null,
  reply_sent boolean not null,
  activity_id uuid,
  created_at timestamptz not null default now(),
  unique (user_id, platform_message_id),
  foreign key (user_id, conversation_id) references meta_conversations (user_id, id) on delete cascade
);
create index meta_messages_by_conversation on meta_messages (conversation_id, sent_at);

create table products (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users (id) on delete cascade,
  name text not null check (name <> ''),
  description text not null default '',
  price_cents bigint not null check (price_cents >= 0),
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  stock integer not null check (stock >= 0),
  active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (user_id, id)
);
create trigger products_updated_at before update on products for each row execute function set_updated_at();

-- One model turn of the agent, answering the customer messages up to `answers_message_id`.
create table agent_turns (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users (id) on delete cascade,
  conversation_id uuid not null,
  answers_message_id uuid not null references meta_messages (id) on delete cascade,
  outcome text not null default 'running' check (outcome in (
    'running', 'replied', 'handoff', 'outside_window', 'cancelled', 'failed')),
  context jsonb not null default '[]',
  tool_calls jsonb not null default '[]',
  reply text,
  handoff_reason text,
  model text not null default '',
  tokens integer not null default 0,
  latency_ms integer not null default 0,
  error text,
  created_at timestamptz not null default now(),
  unique (answers_message_id),
  unique (user_id, id),
  foreign key (user_id, conversation_id) references meta_conversations (user_id, id) on delete cascade
);

create table orders (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users (id) on delete cascade,
  conversation_id uuid,
  contact_id uuid,
  product_id uuid not null,
  quantity integer not null check (quantity > 0),
  unit_price_cents bigint not null,
  currency text not null,
  customer_name text not null default '',
  phone text not null default '',
  address text not null default '',
  status text not null default 'new' check (status in ('new', 'confirmed', 'shipped', 'cancelled')),
  ai_generated boolean not null default false,
  -- The agent turn that created it: one order per turn and product, so a retried turn
  -- cannot order twice.
  turn_id uuid,
  created_at timestamptz not null default now(),
  unique (turn_id, product_id),
  foreign key (user_id, conversation_id) references meta_conversations (user_id, id) on delete set null (conversation_id),
  foreign key (user_id, contact_id) references contacts (user_id, id) on delete set null (contact_id),
  foreign key (user_id, product_id) references products (user_id, id),
  foreign key (user_id, turn_id) references agent_turns (user_id, id) on delete set null (turn_id)
);
create index orders_recent on orders (user_id, created_at desc);

-- A message about to go out through the Send API, recorded before the request: after a
-- crash, a pending intent is checked against the conversation before sending again.
create table send_intents (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users (id) on delete cascade,
  conversation_id uuid not null,
  turn_id uuid unique,
  sender text not null check (sender in ('employee', 'agent')),
  text text not null,
  state text not null default 'pending' check (state in ('pending', 'sent', 'failed')),
  platform_message_id text,
  error text,
  created_at timestamptz not null default now(),
  foreign key (user_id, conversation_id) references meta_conversations (user_id, id) on delete cascade,
  foreign key (user_id, turn_id) references agent_turns (user_id, id) on delete cascade
);
