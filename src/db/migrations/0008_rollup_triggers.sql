-- Cheaper feedback pre-aggregate triggers (migration 0002 made them). A single-record write is one
-- INSERT … ON CONFLICT DO UPDATE, which fires the statement triggers of both INSERT and UPDATE, so
-- these run on every write and were a third of a single record's database time on the embedded
-- database:
--   insert: rows only add, so each count is count(*) FILTER (…) and no cell can be all zeros;
--   update: returns at once when the statement changed no row (the upsert inserted, or found the
--           record unchanged);
--   delete: rows only subtract: the negated counts.
-- The delta rows they write are the same as before.
DO $migration$
DECLARE
  -- The delta columns after the cell's key, in table order, with the row condition each counts.
  counted CONSTANT text[] := ARRAY['true']
    || ARRAY(SELECT format('nps = %s', v) FROM generate_series(0, 10) v)
    || ARRAY(SELECT format('csat = %s', v) FROM generate_series(1, 5) v)
    || ARRAY(SELECT format('ces = %s', v) FROM generate_series(1, 7) v)
    || ARRAY(SELECT format('experience_rating = %s', v) FROM generate_series(1, 5) v);
  cell CONSTANT text := $cell$workspace_id, (occurred_at AT TIME ZONE 'UTC')::date,
      coalesce(lifecycle_stage, ''), coalesce(personality_type, ''), coalesce(segment, ''),
      coalesce(channel, ''), coalesce(touchpoint, ''), source$cell$;
  adding text := (SELECT string_agg(format('count(*) FILTER (WHERE %s)::int', c), ', ') FROM unnest(counted) c);
  removing text := (SELECT string_agg(format('-count(*) FILTER (WHERE %s)::int', c), ', ') FROM unnest(counted) c);
  netting text := (SELECT string_agg(format('coalesce(sum(s) FILTER (WHERE %s), 0)::int', c), ', ') FROM unnest(counted) c);
  nonzero text := (SELECT string_agg(format('c%s <> 0', i), ' OR ') FROM generate_series(1, cardinality(counted)) i);
  names text := (SELECT string_agg(format('c%s', i), ', ') FROM generate_series(1, cardinality(counted)) i);
BEGIN
  EXECUTE format($f$
    CREATE OR REPLACE FUNCTION tp_feedback_rollup_insert() RETURNS trigger LANGUAGE plpgsql AS $body$
    BEGIN
      INSERT INTO feedback_rollup_delta
      SELECT %s, %s FROM new_rows GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
      RETURN NULL;
    END $body$$f$, cell, adding);
  EXECUTE format($f$
    CREATE OR REPLACE FUNCTION tp_feedback_rollup_delete() RETURNS trigger LANGUAGE plpgsql AS $body$
    BEGIN
      INSERT INTO feedback_rollup_delta
      SELECT %s, %s FROM old_rows GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
      RETURN NULL;
    END $body$$f$, cell, removing);
  EXECUTE format($f$
    CREATE OR REPLACE FUNCTION tp_feedback_rollup_update() RETURNS trigger LANGUAGE plpgsql AS $body$
    BEGIN
      IF NOT EXISTS (SELECT FROM old_rows) THEN
        RETURN NULL;
      END IF;
      INSERT INTO feedback_rollup_delta
      SELECT * FROM (
        SELECT %s, %s
        FROM (SELECT 1 AS s, * FROM new_rows UNION ALL SELECT -1, * FROM old_rows) changed
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
      ) AS delta (k1, k2, k3, k4, k5, k6, k7, k8, %s)
      WHERE %s;
      RETURN NULL;
    END $body$$f$, cell, netting, names, nonzero);
END $migration$;
