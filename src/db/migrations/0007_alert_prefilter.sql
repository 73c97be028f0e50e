-- The outbox trigger of each record table gets its own function, which the application rewrites
-- whenever alert rules change and when it opens the database (src/closed-loop/outbox-filter.ts):
-- it queues only the records some active rule of their workspace may match, by SQL predicates
-- compiled from the rules' conditions (src/domain/alert-prefilter.ts), in a statement planned once
-- per connection. The many records that match nothing (a satisfied customer's answer) are then
-- never queued, read back, evaluated or deleted, and with no active rule a write costs the trigger
-- nothing. Until the application first rewrites them, these functions queue what the generic one
-- of migration 0004 queued.
DO $migration$
DECLARE
  kind text;
BEGIN
  FOREACH kind IN ARRAY ARRAY['feedback', 'interaction', 'event'] LOOP
    EXECUTE format($create$
      CREATE FUNCTION %I() RETURNS trigger LANGUAGE plpgsql AS $body$
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
      $body$$create$, 'tp_alert_outbox_' || kind);
    EXECUTE format('DROP TRIGGER %I ON %I', kind || '_alert_insert', kind);
    EXECUTE format('DROP TRIGGER %I ON %I', kind || '_alert_update', kind);
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows '
      'FOR EACH STATEMENT EXECUTE FUNCTION %I()', kind || '_alert_insert', kind, 'tp_alert_outbox_' || kind);
    EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING NEW TABLE AS new_rows '
      'FOR EACH STATEMENT EXECUTE FUNCTION %I()', kind || '_alert_update', kind, 'tp_alert_outbox_' || kind);
  END LOOP;
END;
$migration$;
DROP FUNCTION tp_alert_outbox();

-- Every alert attached to an open case updates the case's row (count, last alert): room on each
-- page lets those updates stay on the page without touching the case indexes (HOT updates).
ALTER TABLE cx_case SET (fillfactor = 70);
