-- Feedback pre-aggregates kept in the writing statement itself, for a database with one connection.
--
-- The triggers of migrations 0002 and 0008 append each statement's change to feedback_rollup_delta,
-- and a timed fold moves the deltas into the three grains. That keeps concurrent writers on a
-- PostgreSQL server from queueing on the same hot rollup rows. The embedded database has one
-- connection and no concurrent writers, and there the fold was the cost: while it ran (≈ 7 ms per
-- 100 delta rows, ≈ 15 ms under load) no request was served.
--
-- A session that sets `touchpoint.rollups` to 'direct' (the embedded database does on opening, see
-- src/db/index.ts) now upserts the statement's change straight into the three grains, in the same
-- statement and transaction as the write; any other session writes deltas as before. Both are
-- exact at every moment: readers add whatever deltas are pending, and the fold still moves them.
DO $migration$
DECLARE
  -- The delta columns after the cell's key, in table order, with the row condition each counts.
  counted CONSTANT text[] := ARRAY['true']
    || ARRAY(SELECT format('nps = %s', v) FROM generate_series(0, 10) v)
    || ARRAY(SELECT format('csat = %s', v) FROM generate_series(1, 5) v)
    || ARRAY(SELECT format('ces = %s', v) FROM generate_series(1, 7) v)
    || ARRAY(SELECT format('experience_rating = %s', v) FROM generate_series(1, 5) v);
  counts CONSTANT text[] := ARRAY['responses']
    || ARRAY(SELECT format('nps%s', v) FROM generate_series(0, 10) v)
    || ARRAY(SELECT format('csat%s', v) FROM generate_series(1, 5) v)
    || ARRAY(SELECT format('ces%s', v) FROM generate_series(1, 7) v)
    || ARRAY(SELECT format('rating%s', v) FROM generate_series(1, 5) v);
  dimensions CONSTANT text := 'lifecycle_stage, personality_type, segment, channel, touchpoint, source';
  cell CONSTANT text := $cell$workspace_id, (occurred_at AT TIME ZONE 'UTC')::date,
      coalesce(lifecycle_stage, ''), coalesce(personality_type, ''), coalesce(segment, ''),
      coalesce(channel, ''), coalesce(touchpoint, ''), source$cell$;
  columns text := format('workspace_id, day, %s, %s', dimensions, array_to_string(counts, ', '));
  adding text := (SELECT string_agg(format('count(*) FILTER (WHERE %s)::int', c), ', ') FROM unnest(counted) c);
  removing text := (SELECT string_agg(format('-count(*) FILTER (WHERE %s)::int', c), ', ') FROM unnest(counted) c);
  netting text := (SELECT string_agg(format('coalesce(sum(s) FILTER (WHERE %s), 0)::int', c), ', ') FROM unnest(counted) c);
  nonzero text := (SELECT string_agg(format('%s <> 0', c), ' OR ') FROM unnest(counts) c);
  sums text := (SELECT string_agg(format('sum(%1$s)::int', c), ', ') FROM unnest(counts) c);
  -- The three grains' upserts of the change in `taken` (the fold of migration 0002 does the same).
  upserts text := (
    SELECT format(
      $u$full_grain AS (
        INSERT INTO feedback_rollup
        SELECT workspace_id, day, %1$s, %2$s FROM taken GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
        ON CONFLICT (workspace_id, day, %1$s) DO UPDATE SET %3$s
      ),
      month_grain AS (
        INSERT INTO feedback_rollup_month
        SELECT workspace_id, date_trunc('month', day)::date, %1$s, %2$s FROM taken GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
        ON CONFLICT (workspace_id, month, %1$s) DO UPDATE SET %4$s
      )
      INSERT INTO feedback_rollup_day
      SELECT workspace_id, day, %2$s FROM taken GROUP BY 1, 2
      ON CONFLICT (workspace_id, day) DO UPDATE SET %5$s$u$,
      dimensions,
      sums,
      string_agg(format('%1$s = feedback_rollup.%1$s + excluded.%1$s', c), ', '),
      string_agg(format('%1$s = feedback_rollup_month.%1$s + excluded.%1$s', c), ', '),
      string_agg(format('%1$s = feedback_rollup_day.%1$s + excluded.%1$s', c), ', '))
    FROM unnest(counts) c
  );
  direct CONSTANT text := $d$current_setting('touchpoint.rollups', true) = 'direct'$d$;
BEGIN
  EXECUTE format($f$
    CREATE OR REPLACE FUNCTION tp_feedback_rollup_insert() RETURNS trigger LANGUAGE plpgsql AS $body$
    BEGIN
      IF %1$s THEN
        WITH taken (%2$s) AS (SELECT %3$s, %4$s FROM new_rows GROUP BY 1, 2, 3, 4, 5, 6, 7, 8), %5$s;
      ELSE
        INSERT INTO feedback_rollup_delta
        SELECT %3$s, %4$s FROM new_rows GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
      END IF;
      RETURN NULL;
    END $body$$f$, direct, columns, cell, adding, upserts);
  EXECUTE format($f$
    CREATE OR REPLACE FUNCTION tp_feedback_rollup_delete() RETURNS trigger LANGUAGE plpgsql AS $body$
    BEGIN
      IF %1$s THEN
        WITH taken (%2$s) AS (SELECT %3$s, %4$s FROM old_rows GROUP BY 1, 2, 3, 4, 5, 6, 7, 8), %5$s;
      ELSE
        INSERT INTO feedback_rollup_delta
        SELECT %3$s, %4$s FROM old_rows GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
      END IF;
      RETURN NULL;
    END $body$$f$, direct, columns, cell, removing, upserts);
  EXECUTE format($f$
    CREATE OR REPLACE FUNCTION tp_feedback_rollup_update() RETURNS trigger LANGUAGE plpgsql AS $body$
    BEGIN
      IF NOT EXISTS (SELECT FROM old_rows) THEN
        RETURN NULL;
      END IF;
      IF %1$s THEN
        WITH changed (%2$s) AS (
          SELECT %3$s, %4$s
          FROM (SELECT 1 AS s, * FROM new_rows UNION ALL SELECT -1, * FROM old_rows) signed
          GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
        ),
        taken AS (SELECT * FROM changed WHERE %5$s),
        %6$s;
      ELSE
        INSERT INTO feedback_rollup_delta
        SELECT * FROM (
          SELECT %3$s, %4$s
          FROM (SELECT 1 AS s, * FROM new_rows UNION ALL SELECT -1, * FROM old_rows) signed
          GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
        ) AS changed (%2$s)
        WHERE %5$s;
      END IF;
      RETURN NULL;
    END $body$$f$, direct, columns, cell, netting, nonzero, upserts);
END $migration$;
