-- Core store: tenants, API keys, and the customer-experience records joined by customer.
-- Every table carries workspace_id; every unique key starts with it.
-- The record tables have only the indexes that ingestion and the customer timeline need: each
-- B-tree costs a large share of write speed. Analytics brings its own pre-aggregates.
-- Only the unique (workspace_id, external_id) index starts with workspace_id: customer ids are
-- global, and an index led by workspace_id alone lets the planner, when statistics lag behind a
-- new workspace, probe the wrong index row by row.

CREATE TABLE workspace (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  name text NOT NULL,
  settings jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_key (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workspace_id bigint NOT NULL REFERENCES workspace (id),
  name text NOT NULL,
  role text NOT NULL CHECK (role IN ('admin', 'write', 'read')),
  -- The first characters of the key, shown in listings so a key can be recognised; not secret.
  key_prefix text NOT NULL,
  -- SHA-256 of the whole key. Keys are 256-bit random strings, so a fast hash is safe here.
  key_hash bytea NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX api_key_workspace ON api_key (workspace_id);

-- Raises an error (SQLSTATE TP001) when a condition does not hold; lets a single statement abort
-- itself, and with it all it wrote, when it finds its assumptions broken.
CREATE FUNCTION tp_assert(condition boolean, message text) RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
  IF NOT condition THEN
    RAISE EXCEPTION USING ERRCODE = 'TP001', MESSAGE = message;
  END IF;
  RETURN 1;
END;
$$;

-- The central customer profile. Customers referenced before they are known are created with
-- only their external id and filled in when the source system sends them.
CREATE TABLE customer (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workspace_id bigint NOT NULL,
  external_id text NOT NULL,
  name text,
  email text,
  phone text,
  locale text,
  segment text,
  lifecycle_stage text CHECK (lifecycle_stage IN ('new', 'current', 'advocate', 'ending', 'renewing')),
  personality_type text NOT NULL DEFAULT 'unknown'
    CHECK (personality_type IN ('prompt', 'relationship', 'unknown')),
  value numeric,
  attributes jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (workspace_id, external_id)
);

-- Every life-cycle stage a customer has been in, with the date it was recorded.
CREATE TABLE customer_stage_history (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workspace_id bigint NOT NULL,
  customer_id bigint NOT NULL,
  lifecycle_stage text,
  changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customer_stage_history_customer ON customer_stage_history (workspace_id, customer_id, changed_at);

CREATE FUNCTION record_customer_stage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO customer_stage_history (workspace_id, customer_id, lifecycle_stage)
  VALUES (NEW.workspace_id, NEW.id, NEW.lifecycle_stage);
  RETURN NULL;
END;
$$;
-- The WHEN clauses keep the function out of the way of the many inserts that carry no stage
-- (customers created from a reference).
CREATE TRIGGER customer_stage_set AFTER INSERT ON customer
  FOR EACH ROW WHEN (NEW.lifecycle_stage IS NOT NULL) EXECUTE FUNCTION record_customer_stage();
CREATE TRIGGER customer_stage_change AFTER UPDATE OF lifecycle_stage ON customer
  FOR EACH ROW WHEN (OLD.lifecycle_stage IS DISTINCT FROM NEW.lifecycle_stage) EXECUTE FUNCTION record_customer_stage();

-- One contact: the hard, passive data of an encounter. lifecycle_stage, personality_type and
-- segment are the customer's at the time the contact was recorded, so that every metric can be cut
-- by the three sectors of experience as they were at the encounter.
CREATE TABLE interaction (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workspace_id bigint NOT NULL,
  external_id text NOT NULL,
  customer_id bigint NOT NULL,
  channel text NOT NULL,
  touchpoint text,
  occurred_at timestamptz NOT NULL,
  agent text,
  team text,
  wait_seconds double precision CHECK (wait_seconds >= 0),
  handle_seconds double precision CHECK (handle_seconds >= 0),
  transfers integer CHECK (transfers >= 0),
  resolved boolean,
  outcome text,
  attributes jsonb NOT NULL DEFAULT '{}',
  lifecycle_stage text,
  personality_type text,
  segment text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (workspace_id, external_id)
);
CREATE INDEX interaction_customer_time ON interaction (customer_id, occurred_at DESC);

-- The active voice of the customer: survey answers, reviews, social posts, complaints.
-- interaction_external_id may name an interaction that has not arrived yet.
CREATE TABLE feedback (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workspace_id bigint NOT NULL,
  external_id text NOT NULL,
  customer_id bigint,
  interaction_external_id text,
  source text NOT NULL
    CHECK (source IN ('survey', 'review', 'social', 'complaint', 'email', 'chat', 'call')),
  channel text,
  touchpoint text,
  occurred_at timestamptz NOT NULL,
  nps smallint CHECK (nps BETWEEN 0 AND 10),
  csat smallint CHECK (csat BETWEEN 1 AND 5),
  ces smallint CHECK (ces BETWEEN 1 AND 7),
  answers jsonb NOT NULL DEFAULT '{}',
  text text,
  -- 1 disastrous, 2 poor, 3 neutral, 4 good, 5 fabulous; derived from the scores present.
  experience_rating smallint CHECK (experience_rating BETWEEN 1 AND 5),
  lifecycle_stage text,
  personality_type text,
  segment text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (workspace_id, external_id)
);
CREATE INDEX feedback_customer_time ON feedback (customer_id, occurred_at DESC);

-- Business facts: purchases, renewals, cancellations, churn, with amounts.
CREATE TABLE event (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workspace_id bigint NOT NULL,
  external_id text NOT NULL,
  customer_id bigint NOT NULL,
  type text NOT NULL,
  occurred_at timestamptz NOT NULL,
  amount numeric,
  attributes jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (workspace_id, external_id)
);
CREATE INDEX event_customer_time ON event (customer_id, occurred_at DESC);
