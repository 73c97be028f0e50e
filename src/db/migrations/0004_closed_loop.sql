-- Closed loop: alert rules evaluated on every ingested record, the alerts they raise, the cases
-- people work (owner, SLA, status, notes, root cause, playbook steps, messages to the customer,
-- history, recovery), playbooks, and the notifications (webhooks and owner e-mail) they send.

-- A rule: a condition tree (validated in the application), the record kinds it can match (so the
-- outbox holds only records some rule may match), a severity and how its cases are routed.
-- Records that occurred more than max_age_seconds before they were ingested (history imports)
-- raise nothing.
CREATE TABLE alert_rule (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workspace_id bigint NOT NULL REFERENCES workspace (id),
  name text NOT NULL,
  description text,
  condition jsonb NOT NULL,
  kinds text[] NOT NULL,
  severity text NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
  routing jsonb NOT NULL DEFAULT '[]',
  max_age_seconds integer NOT NULL DEFAULT 604800 CHECK (max_age_seconds > 0),
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_rule_workspace ON alert_rule (workspace_id) WHERE active;

-- The transactional outbox: one row per written record that an active rule may match, inserted
-- by the statement that wrote the record, in its transaction. An acknowledged record is therefore
-- never without its evaluation; the processor deletes the row in the transaction that raises the
-- record's alerts, so each record is evaluated exactly once.
CREATE TABLE alert_outbox (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workspace_id bigint NOT NULL,
  record_kind text NOT NULL CHECK (record_kind IN ('feedback', 'interaction', 'event')),
  record_id bigint NOT NULL,
  customer_id bigint,
  occurred_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION tp_alert_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM alert_rule WHERE active AND TG_TABLE_NAME = ANY (kinds)) THEN
    RETURN NULL;
  END IF;
  INSERT INTO alert_outbox (workspace_id, record_kind, record_id, customer_id, occurred_at)
  SELECT n.workspace_id, TG_TABLE_NAME, n.id, n.customer_id, n.occurred_at
  FROM new_rows n
  JOIN (
    SELECT workspace_id, max(max_age_seconds) AS max_age_seconds
    FROM alert_rule WHERE active AND TG_TABLE_NAME = ANY (kinds)
    GROUP BY workspace_id
  ) r ON r.workspace_id = n.workspace_id
  WHERE n.occurred_at > now() - make_interval(secs => r.max_age_seconds)
  ORDER BY n.id;
  RETURN NULL;
END;
$$;

CREATE TRIGGER feedback_alert_insert AFTER INSERT ON feedback
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tp_alert_outbox();
CREATE TRIGGER feedback_alert_update AFTER UPDATE ON feedback
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tp_alert_outbox();
CREATE TRIGGER interaction_alert_insert AFTER INSERT ON interaction
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tp_alert_outbox();
CREATE TRIGGER interaction_alert_update AFTER UPDATE ON interaction
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tp_alert_outbox();
CREATE TRIGGER event_alert_insert AFTER INSERT ON event
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tp_alert_outbox();
CREATE TRIGGER event_alert_update AFTER UPDATE ON event
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tp_alert_outbox();

-- Best-practice steps for a situation. match holds lists (touchpoints, rootCauses,
-- personalityTypes, lifecycleStages, severities); an absent list matches anything.
CREATE TABLE playbook (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workspace_id bigint NOT NULL REFERENCES workspace (id),
  name text NOT NULL,
  description text,
  match jsonb NOT NULL DEFAULT '{}',
  steps jsonb NOT NULL,
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX playbook_workspace ON playbook (workspace_id) WHERE active;

-- A case: one bad experience (or a run of them) that a person owns until it is resolved. One open
-- case per customer and rule; further alerts attach to it.
CREATE TABLE cx_case (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workspace_id bigint NOT NULL,
  rule_id bigint NOT NULL,
  customer_id bigint,
  title text NOT NULL,
  status text NOT NULL DEFAULT 'open'
    CHECK (status IN ('open', 'in_progress', 'customer_contacted', 'resolved', 'closed')),
  severity text NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
  priority text NOT NULL CHECK (priority IN ('p1', 'p2', 'p3', 'p4')),
  priority_score integer NOT NULL,
  owner text,
  team text,
  touchpoint text,
  channel text,
  root_cause text,
  playbook_id bigint,
  first_response_due_at timestamptz,
  resolve_due_at timestamptz,
  first_response_at timestamptz,
  resolved_at timestamptz,
  closed_at timestamptz,
  -- 0 none, 1 first response overdue, 2 resolution overdue.
  escalation_level integer NOT NULL DEFAULT 0,
  escalated_at timestamptz,
  alert_count integer NOT NULL DEFAULT 0,
  last_alert_at timestamptz,
  -- Decided after the case closes, from what the customer does next.
  recovery text CHECK (recovery IN ('recovered', 'not_recovered', 'unknown')),
  recovery_reason text,
  recovery_decided_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX cx_case_open ON cx_case (rule_id, customer_id)
  WHERE status IN ('open', 'in_progress', 'customer_contacted');
CREATE INDEX cx_case_workspace ON cx_case (workspace_id, created_at DESC);
CREATE INDEX cx_case_customer ON cx_case (customer_id);
CREATE INDEX cx_case_first_response_due ON cx_case (first_response_due_at)
  WHERE first_response_at IS NULL AND escalation_level = 0 AND status = 'open';
CREATE INDEX cx_case_resolve_due ON cx_case (resolve_due_at)
  WHERE escalation_level < 2 AND status IN ('open', 'in_progress', 'customer_contacted');
CREATE INDEX cx_case_recovery_pending ON cx_case (closed_at)
  WHERE status = 'closed' AND recovery IS NULL;

-- One alert per rule and record, whatever happens to the outbox.
CREATE TABLE alert (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workspace_id bigint NOT NULL,
  rule_id bigint NOT NULL,
  case_id bigint NOT NULL,
  record_kind text NOT NULL,
  record_id bigint NOT NULL,
  customer_id bigint,
  severity text NOT NULL,
  occurred_at timestamptz NOT NULL,
  raised_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (rule_id, record_kind, record_id)
);
CREATE INDEX alert_workspace ON alert (workspace_id, raised_at DESC);
CREATE INDEX alert_case ON alert (case_id);

-- Everything that happened to a case, in order.
CREATE TABLE case_event (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workspace_id bigint NOT NULL,
  case_id bigint NOT NULL,
  type text NOT NULL,
  actor text NOT NULL,
  detail jsonb NOT NULL DEFAULT '{}',
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX case_event_case ON case_event (case_id, id);

-- The steps of the case's playbook, checked off as they are done.
CREATE TABLE case_step (
  case_id bigint NOT NULL,
  position integer NOT NULL,
  workspace_id bigint NOT NULL,
  text text NOT NULL,
  done_at timestamptz,
  done_by text,
  PRIMARY KEY (case_id, position)
);

-- Closing the loop: a follow-up sent to the customer (e-mail) or a call logged, from a case. It
-- shows on the customer's timeline and counts towards the survey contact budget.
CREATE TABLE case_message (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workspace_id bigint NOT NULL,
  case_id bigint NOT NULL,
  customer_id bigint,
  channel text NOT NULL CHECK (channel IN ('email', 'call')),
  subject text,
  body text NOT NULL,
  outcome text,
  status text NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'logged')),
  error text,
  actor text NOT NULL,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX case_message_customer ON case_message (customer_id, occurred_at DESC);
CREATE INDEX case_message_case ON case_message (case_id);

-- Round-robin position of each team.
CREATE TABLE routing_cursor (
  workspace_id bigint NOT NULL,
  team text NOT NULL,
  position bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (workspace_id, team)
);

CREATE TABLE webhook (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workspace_id bigint NOT NULL REFERENCES workspace (id),
  url text NOT NULL,
  secret text NOT NULL,
  events text[] NOT NULL,
  format text NOT NULL DEFAULT 'json' CHECK (format IN ('json', 'slack')),
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_workspace ON webhook (workspace_id) WHERE active;

-- One message to deliver: a webhook call or an owner e-mail. Deliveries to one webhook go out in
-- order (only the oldest pending one of a webhook is attempted); failures are retried with
-- exponential backoff until max attempts, then marked failed. Each attempt is logged.
CREATE TABLE notification (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workspace_id bigint NOT NULL,
  channel text NOT NULL CHECK (channel IN ('webhook', 'email')),
  webhook_id bigint,
  recipient text,
  event_id uuid NOT NULL DEFAULT gen_random_uuid(),
  event_type text NOT NULL,
  case_id bigint,
  payload jsonb NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  lease_until timestamptz,
  last_status integer,
  last_error text,
  delivered_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notification_pending ON notification (next_attempt_at) WHERE status = 'pending';
CREATE INDEX notification_webhook_pending ON notification (webhook_id, id) WHERE status = 'pending';
CREATE INDEX notification_webhook ON notification (webhook_id, id DESC);

CREATE TABLE notification_attempt (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  notification_id bigint NOT NULL,
  attempt integer NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  status_code integer,
  error text,
  duration_ms double precision
);
CREATE INDEX notification_attempt_notification ON notification_attempt (notification_id, attempt);
