-- Surveys: versioned definitions, the triggers that decide when to ask, one invitation per person
-- asked (from scheduling through delivery to the last answer), and opt-outs per channel.

-- A secret of this installation, created on first use (e.g. the key that signs survey links).
CREATE TABLE instance_secret (
  name text PRIMARY KEY,
  value bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE survey (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workspace_id bigint NOT NULL REFERENCES workspace (id),
  name text NOT NULL,
  -- Only active surveys are sent; paused ones keep their triggers and links.
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'archived')),
  -- The current version; invitations keep the version they were sent with.
  version integer NOT NULL DEFAULT 1,
  template text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX survey_workspace ON survey (workspace_id);

-- Every version of a survey's definition, never changed once written: an answer always means what
-- the question it answered said.
CREATE TABLE survey_version (
  survey_id bigint NOT NULL REFERENCES survey (id),
  version integer NOT NULL,
  workspace_id bigint NOT NULL,
  definition jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (survey_id, version)
);

-- When to ask. An interaction trigger fires on ingestion for each interaction matching every
-- match_* list (NULL: any value), at most max_age_seconds old (historical imports ask nobody);
-- the invitation is due delay_seconds after the interaction. A relationship trigger asks each
-- customer every every_days days, spread over the period by a hash of the customer.
-- Sampling is decided by a hash of trigger and subject, so re-sending a record never re-draws it.
CREATE TABLE survey_trigger (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workspace_id bigint NOT NULL,
  survey_id bigint NOT NULL REFERENCES survey (id),
  kind text NOT NULL CHECK (kind IN ('interaction', 'relationship')),
  channel text NOT NULL CHECK (channel IN ('email', 'sms', 'voice', 'webhook')),
  active boolean NOT NULL DEFAULT true,
  sample_rate double precision NOT NULL DEFAULT 1 CHECK (sample_rate > 0 AND sample_rate <= 1),
  match_channel text[],
  match_touchpoint text[],
  match_outcome text[],
  match_segment text[],
  match_lifecycle_stage text[],
  match_personality_type text[],
  match_team text[],
  match_resolved boolean,
  delay_seconds integer NOT NULL DEFAULT 0 CHECK (delay_seconds >= 0),
  max_age_seconds integer NOT NULL DEFAULT 604800 CHECK (max_age_seconds > 0),
  every_days integer CHECK (every_days > 0),
  -- Relationship triggers: customers whose turn came up to this time have been scheduled.
  scheduled_through timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((kind = 'relationship') = (every_days IS NOT NULL))
);
CREATE INDEX survey_trigger_survey ON survey_trigger (survey_id);

-- One person asked once: scheduled → sending → sent (or suppressed, with its reason, or failed),
-- then opened, started and completed as they answer. public_id names it in the survey link.
CREATE TABLE invitation (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workspace_id bigint NOT NULL,
  public_id uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
  -- No foreign keys: each costs a lookup per row on the ingestion path that schedules invitations;
  -- surveys and triggers are never deleted (they are archived or deactivated).
  survey_id bigint NOT NULL,
  survey_version integer,
  trigger_id bigint,
  -- With trigger_id, what the invitation is for ("interaction:<id>", "customer:<id>/cycle:<n>"):
  -- one invitation each.
  subject_key text,
  customer_id bigint,
  interaction_id bigint,
  channel text NOT NULL CHECK (channel IN ('email', 'sms', 'voice', 'webhook', 'link', 'widget', 'ivr')),
  -- The contact asked about: its touchpoint and channel (the feedback record's).
  touchpoint text,
  contact_channel text,
  status text NOT NULL DEFAULT 'scheduled'
    CHECK (status IN ('scheduled', 'sending', 'sent', 'failed', 'suppressed')),
  -- Why it was suppressed, deferred or failed: a code (e.g. contact_budget) and its explanation.
  reason text,
  reason_detail text,
  due_at timestamptz NOT NULL DEFAULT now(),
  lease_until timestamptz,
  attempts integer NOT NULL DEFAULT 0,
  sent_at timestamptz,
  expires_at timestamptz,
  reminder_due_at timestamptz,
  reminded_at timestamptz,
  opened_at timestamptz,
  started_at timestamptz,
  completed_at timestamptz,
  language text,
  answers jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (trigger_id, subject_key)
);
-- Invitations made without a trigger for a subject (an IVR call, a day's widget suppression) are
-- one per survey and subject, however many requests race to make them.
CREATE UNIQUE INDEX invitation_subject ON invitation (survey_id, subject_key)
  WHERE trigger_id IS NULL AND subject_key IS NOT NULL;
CREATE INDEX invitation_due ON invitation (due_at) WHERE status = 'scheduled';
CREATE INDEX invitation_sending ON invitation (lease_until) WHERE status = 'sending';
CREATE INDEX invitation_customer ON invitation (customer_id, sent_at) WHERE sent_at IS NOT NULL;
CREATE INDEX invitation_reminder ON invitation (reminder_due_at)
  WHERE reminder_due_at IS NOT NULL AND reminded_at IS NULL AND completed_at IS NULL;
CREATE INDEX invitation_survey ON invitation (workspace_id, survey_id, created_at);

-- A customer who does not want to be asked on a channel.
CREATE TABLE contact_opt_out (
  customer_id bigint NOT NULL,
  channel text NOT NULL,
  workspace_id bigint NOT NULL,
  source text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (customer_id, channel)
);

-- Fires the interaction triggers for the interactions a statement wrote: one scheduled invitation
-- per (trigger, interaction) that matches and is sampled. Runs inside the writing transaction, so
-- an acknowledged interaction never misses its survey. The match rules are evaluated once per
-- distinct kind of contact in the statement (channel, touchpoint, outcome, segment, …: a few
-- dozen in a batch of a thousand), not once per interaction and trigger.
CREATE FUNCTION tp_fire_survey_triggers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM survey_trigger WHERE active AND kind = 'interaction') THEN
    RETURN NULL;
  END IF;
  INSERT INTO invitation (workspace_id, survey_id, trigger_id, subject_key, customer_id, interaction_id,
    channel, touchpoint, contact_channel, due_at)
  WITH triggers AS MATERIALIZED (
    SELECT t.id, t.workspace_id, t.survey_id, t.channel, t.sample_rate, t.delay_seconds,
      now() - make_interval(secs => t.max_age_seconds) AS oldest,
      t.match_channel, t.match_touchpoint, t.match_outcome, t.match_segment, t.match_lifecycle_stage,
      t.match_personality_type, t.match_team, t.match_resolved
    FROM survey_trigger t
    JOIN survey s ON s.id = t.survey_id AND s.status = 'active'
    WHERE t.active AND t.kind = 'interaction'
  ), kinds AS (
    SELECT DISTINCT workspace_id, channel, coalesce(touchpoint, '') AS touchpoint, coalesce(outcome, '') AS outcome,
      coalesce(segment, '') AS segment, coalesce(lifecycle_stage, '') AS lifecycle_stage,
      coalesce(personality_type, '') AS personality_type, coalesce(team, '') AS team,
      coalesce(resolved::int, -1) AS resolved
    FROM new_rows
  ), matched AS MATERIALIZED (
    SELECT k.*, t.id AS trigger_id, t.survey_id, t.channel AS send_channel, t.sample_rate, t.delay_seconds, t.oldest
    FROM kinds k
    JOIN triggers t ON t.workspace_id = k.workspace_id
    WHERE (t.match_channel IS NULL OR k.channel = ANY (t.match_channel))
      AND (t.match_touchpoint IS NULL OR k.touchpoint = ANY (t.match_touchpoint))
      AND (t.match_outcome IS NULL OR k.outcome = ANY (t.match_outcome))
      AND (t.match_segment IS NULL OR k.segment = ANY (t.match_segment))
      AND (t.match_lifecycle_stage IS NULL OR k.lifecycle_stage = ANY (t.match_lifecycle_stage))
      AND (t.match_personality_type IS NULL OR k.personality_type = ANY (t.match_personality_type))
      AND (t.match_team IS NULL OR k.team = ANY (t.match_team))
      AND (t.match_resolved IS NULL OR k.resolved = t.match_resolved::int)
  )
  SELECT n.workspace_id, m.survey_id, m.trigger_id, 'interaction:' || n.id, n.customer_id, n.id,
    m.send_channel, n.touchpoint, n.channel,
    greatest(n.occurred_at + make_interval(secs => m.delay_seconds), now())
  FROM new_rows n
  JOIN matched m ON m.workspace_id = n.workspace_id AND m.channel = n.channel
    AND m.touchpoint = coalesce(n.touchpoint, '') AND m.outcome = coalesce(n.outcome, '')
    AND m.segment = coalesce(n.segment, '') AND m.lifecycle_stage = coalesce(n.lifecycle_stage, '')
    AND m.personality_type = coalesce(n.personality_type, '') AND m.team = coalesce(n.team, '')
    AND m.resolved = coalesce(n.resolved::int, -1)
  WHERE n.occurred_at > m.oldest AND tp_sampled(m.trigger_id, 'interaction:' || n.id, m.sample_rate)
  ON CONFLICT (trigger_id, subject_key) DO NOTHING;
  RETURN NULL;
END;
$$;

-- Whether a subject falls in a trigger's sample: a uniform draw from a hash, stable across calls.
CREATE FUNCTION tp_sampled(trigger_id bigint, subject text, rate double precision) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT rate >= 1 OR
    (hashtextextended(trigger_id::text || '/' || subject, 0) & 9007199254740991)::double precision
      / 9007199254740992.0 < rate
$$;

CREATE TRIGGER interaction_survey_insert AFTER INSERT ON interaction
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tp_fire_survey_triggers();
CREATE TRIGGER interaction_survey_update AFTER UPDATE ON interaction
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tp_fire_survey_triggers();
