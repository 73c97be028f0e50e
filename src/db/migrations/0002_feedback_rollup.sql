-- Exact pre-aggregates of feedback for fast metrics: the counts of every NPS, CSAT and CES score
-- and of every experience rating, in three grains —
--   feedback_rollup:       per workspace, UTC day, life-cycle stage, personality type, segment,
--                          channel, touchpoint and source;
--   feedback_rollup_month: the same per calendar month (cubes over long periods);
--   feedback_rollup_day:   per workspace and day only (time series).
-- A missing value is stored as '' (no text value is empty).
--
-- Writes never wait on each other here: statement triggers append the change of each statement to
-- feedback_rollup_delta (insert only, no locks shared with other writers), and a fold
-- (tp_fold_feedback_rollup, run by the server every few seconds and after imports) moves the deltas
-- into the three grains. Readers add the pending deltas, so the figures are exact at every moment.

CREATE TABLE feedback_rollup (
  workspace_id bigint NOT NULL,
  day date NOT NULL,
  lifecycle_stage text NOT NULL,
  personality_type text NOT NULL,
  segment text NOT NULL,
  channel text NOT NULL,
  touchpoint text NOT NULL,
  source text NOT NULL,
  responses integer NOT NULL,
  nps0 integer NOT NULL,
  nps1 integer NOT NULL,
  nps2 integer NOT NULL,
  nps3 integer NOT NULL,
  nps4 integer NOT NULL,
  nps5 integer NOT NULL,
  nps6 integer NOT NULL,
  nps7 integer NOT NULL,
  nps8 integer NOT NULL,
  nps9 integer NOT NULL,
  nps10 integer NOT NULL,
  csat1 integer NOT NULL,
  csat2 integer NOT NULL,
  csat3 integer NOT NULL,
  csat4 integer NOT NULL,
  csat5 integer NOT NULL,
  ces1 integer NOT NULL,
  ces2 integer NOT NULL,
  ces3 integer NOT NULL,
  ces4 integer NOT NULL,
  ces5 integer NOT NULL,
  ces6 integer NOT NULL,
  ces7 integer NOT NULL,
  rating1 integer NOT NULL,
  rating2 integer NOT NULL,
  rating3 integer NOT NULL,
  rating4 integer NOT NULL,
  rating5 integer NOT NULL,
  PRIMARY KEY (workspace_id, day, lifecycle_stage, personality_type, segment, channel, touchpoint, source)
);

CREATE TABLE feedback_rollup_month (
  workspace_id bigint NOT NULL,
  month date NOT NULL,
  lifecycle_stage text NOT NULL,
  personality_type text NOT NULL,
  segment text NOT NULL,
  channel text NOT NULL,
  touchpoint text NOT NULL,
  source text NOT NULL,
  responses integer NOT NULL,
  nps0 integer NOT NULL,
  nps1 integer NOT NULL,
  nps2 integer NOT NULL,
  nps3 integer NOT NULL,
  nps4 integer NOT NULL,
  nps5 integer NOT NULL,
  nps6 integer NOT NULL,
  nps7 integer NOT NULL,
  nps8 integer NOT NULL,
  nps9 integer NOT NULL,
  nps10 integer NOT NULL,
  csat1 integer NOT NULL,
  csat2 integer NOT NULL,
  csat3 integer NOT NULL,
  csat4 integer NOT NULL,
  csat5 integer NOT NULL,
  ces1 integer NOT NULL,
  ces2 integer NOT NULL,
  ces3 integer NOT NULL,
  ces4 integer NOT NULL,
  ces5 integer NOT NULL,
  ces6 integer NOT NULL,
  ces7 integer NOT NULL,
  rating1 integer NOT NULL,
  rating2 integer NOT NULL,
  rating3 integer NOT NULL,
  rating4 integer NOT NULL,
  rating5 integer NOT NULL,
  PRIMARY KEY (workspace_id, month, lifecycle_stage, personality_type, segment, channel, touchpoint, source)
);

CREATE TABLE feedback_rollup_day (
  workspace_id bigint NOT NULL,
  day date NOT NULL,
  responses integer NOT NULL,
  nps0 integer NOT NULL,
  nps1 integer NOT NULL,
  nps2 integer NOT NULL,
  nps3 integer NOT NULL,
  nps4 integer NOT NULL,
  nps5 integer NOT NULL,
  nps6 integer NOT NULL,
  nps7 integer NOT NULL,
  nps8 integer NOT NULL,
  nps9 integer NOT NULL,
  nps10 integer NOT NULL,
  csat1 integer NOT NULL,
  csat2 integer NOT NULL,
  csat3 integer NOT NULL,
  csat4 integer NOT NULL,
  csat5 integer NOT NULL,
  ces1 integer NOT NULL,
  ces2 integer NOT NULL,
  ces3 integer NOT NULL,
  ces4 integer NOT NULL,
  ces5 integer NOT NULL,
  ces6 integer NOT NULL,
  ces7 integer NOT NULL,
  rating1 integer NOT NULL,
  rating2 integer NOT NULL,
  rating3 integer NOT NULL,
  rating4 integer NOT NULL,
  rating5 integer NOT NULL,
  PRIMARY KEY (workspace_id, day)
);

CREATE TABLE feedback_rollup_delta (
  workspace_id bigint NOT NULL,
  day date NOT NULL,
  lifecycle_stage text NOT NULL,
  personality_type text NOT NULL,
  segment text NOT NULL,
  channel text NOT NULL,
  touchpoint text NOT NULL,
  source text NOT NULL,
  responses integer NOT NULL,
  nps0 integer NOT NULL,
  nps1 integer NOT NULL,
  nps2 integer NOT NULL,
  nps3 integer NOT NULL,
  nps4 integer NOT NULL,
  nps5 integer NOT NULL,
  nps6 integer NOT NULL,
  nps7 integer NOT NULL,
  nps8 integer NOT NULL,
  nps9 integer NOT NULL,
  nps10 integer NOT NULL,
  csat1 integer NOT NULL,
  csat2 integer NOT NULL,
  csat3 integer NOT NULL,
  csat4 integer NOT NULL,
  csat5 integer NOT NULL,
  ces1 integer NOT NULL,
  ces2 integer NOT NULL,
  ces3 integer NOT NULL,
  ces4 integer NOT NULL,
  ces5 integer NOT NULL,
  ces6 integer NOT NULL,
  ces7 integer NOT NULL,
  rating1 integer NOT NULL,
  rating2 integer NOT NULL,
  rating3 integer NOT NULL,
  rating4 integer NOT NULL,
  rating5 integer NOT NULL
);
-- No index: the table holds a few seconds of changes, and every index would slow every write.

CREATE FUNCTION tp_feedback_rollup_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO feedback_rollup_delta
  SELECT * FROM (
    SELECT workspace_id, (occurred_at AT TIME ZONE 'UTC')::date AS day,
      coalesce(lifecycle_stage, '') AS lifecycle_stage, coalesce(personality_type, '') AS personality_type, coalesce(segment, '') AS segment, coalesce(channel, '') AS channel, coalesce(touchpoint, '') AS touchpoint, source,
      sum(s)::int AS responses,
      coalesce(sum(s) FILTER (WHERE nps = 0), 0)::int AS nps0,
      coalesce(sum(s) FILTER (WHERE nps = 1), 0)::int AS nps1,
      coalesce(sum(s) FILTER (WHERE nps = 2), 0)::int AS nps2,
      coalesce(sum(s) FILTER (WHERE nps = 3), 0)::int AS nps3,
      coalesce(sum(s) FILTER (WHERE nps = 4), 0)::int AS nps4,
      coalesce(sum(s) FILTER (WHERE nps = 5), 0)::int AS nps5,
      coalesce(sum(s) FILTER (WHERE nps = 6), 0)::int AS nps6,
      coalesce(sum(s) FILTER (WHERE nps = 7), 0)::int AS nps7,
      coalesce(sum(s) FILTER (WHERE nps = 8), 0)::int AS nps8,
      coalesce(sum(s) FILTER (WHERE nps = 9), 0)::int AS nps9,
      coalesce(sum(s) FILTER (WHERE nps = 10), 0)::int AS nps10,
      coalesce(sum(s) FILTER (WHERE csat = 1), 0)::int AS csat1,
      coalesce(sum(s) FILTER (WHERE csat = 2), 0)::int AS csat2,
      coalesce(sum(s) FILTER (WHERE csat = 3), 0)::int AS csat3,
      coalesce(sum(s) FILTER (WHERE csat = 4), 0)::int AS csat4,
      coalesce(sum(s) FILTER (WHERE csat = 5), 0)::int AS csat5,
      coalesce(sum(s) FILTER (WHERE ces = 1), 0)::int AS ces1,
      coalesce(sum(s) FILTER (WHERE ces = 2), 0)::int AS ces2,
      coalesce(sum(s) FILTER (WHERE ces = 3), 0)::int AS ces3,
      coalesce(sum(s) FILTER (WHERE ces = 4), 0)::int AS ces4,
      coalesce(sum(s) FILTER (WHERE ces = 5), 0)::int AS ces5,
      coalesce(sum(s) FILTER (WHERE ces = 6), 0)::int AS ces6,
      coalesce(sum(s) FILTER (WHERE ces = 7), 0)::int AS ces7,
      coalesce(sum(s) FILTER (WHERE experience_rating = 1), 0)::int AS rating1,
      coalesce(sum(s) FILTER (WHERE experience_rating = 2), 0)::int AS rating2,
      coalesce(sum(s) FILTER (WHERE experience_rating = 3), 0)::int AS rating3,
      coalesce(sum(s) FILTER (WHERE experience_rating = 4), 0)::int AS rating4,
      coalesce(sum(s) FILTER (WHERE experience_rating = 5), 0)::int AS rating5
    FROM (SELECT 1 AS s, * FROM new_rows) changed
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
  ) delta
  WHERE responses <> 0 OR nps0 <> 0 OR nps1 <> 0 OR nps2 <> 0 OR nps3 <> 0 OR nps4 <> 0 OR nps5 <> 0 OR nps6 <> 0 OR nps7 <> 0 OR nps8 <> 0 OR nps9 <> 0 OR nps10 <> 0 OR csat1 <> 0 OR csat2 <> 0 OR csat3 <> 0 OR csat4 <> 0 OR csat5 <> 0 OR ces1 <> 0 OR ces2 <> 0 OR ces3 <> 0 OR ces4 <> 0 OR ces5 <> 0 OR ces6 <> 0 OR ces7 <> 0 OR rating1 <> 0 OR rating2 <> 0 OR rating3 <> 0 OR rating4 <> 0 OR rating5 <> 0;
  RETURN NULL;
END $$;

CREATE FUNCTION tp_feedback_rollup_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO feedback_rollup_delta
  SELECT * FROM (
    SELECT workspace_id, (occurred_at AT TIME ZONE 'UTC')::date AS day,
      coalesce(lifecycle_stage, '') AS lifecycle_stage, coalesce(personality_type, '') AS personality_type, coalesce(segment, '') AS segment, coalesce(channel, '') AS channel, coalesce(touchpoint, '') AS touchpoint, source,
      sum(s)::int AS responses,
      coalesce(sum(s) FILTER (WHERE nps = 0), 0)::int AS nps0,
      coalesce(sum(s) FILTER (WHERE nps = 1), 0)::int AS nps1,
      coalesce(sum(s) FILTER (WHERE nps = 2), 0)::int AS nps2,
      coalesce(sum(s) FILTER (WHERE nps = 3), 0)::int AS nps3,
      coalesce(sum(s) FILTER (WHERE nps = 4), 0)::int AS nps4,
      coalesce(sum(s) FILTER (WHERE nps = 5), 0)::int AS nps5,
      coalesce(sum(s) FILTER (WHERE nps = 6), 0)::int AS nps6,
      coalesce(sum(s) FILTER (WHERE nps = 7), 0)::int AS nps7,
      coalesce(sum(s) FILTER (WHERE nps = 8), 0)::int AS nps8,
      coalesce(sum(s) FILTER (WHERE nps = 9), 0)::int AS nps9,
      coalesce(sum(s) FILTER (WHERE nps = 10), 0)::int AS nps10,
      coalesce(sum(s) FILTER (WHERE csat = 1), 0)::int AS csat1,
      coalesce(sum(s) FILTER (WHERE csat = 2), 0)::int AS csat2,
      coalesce(sum(s) FILTER (WHERE csat = 3), 0)::int AS csat3,
      coalesce(sum(s) FILTER (WHERE csat = 4), 0)::int AS csat4,
      coalesce(sum(s) FILTER (WHERE csat = 5), 0)::int AS csat5,
      coalesce(sum(s) FILTER (WHERE ces = 1), 0)::int AS ces1,
      coalesce(sum(s) FILTER (WHERE ces = 2), 0)::int AS ces2,
      coalesce(sum(s) FILTER (WHERE ces = 3), 0)::int AS ces3,
      coalesce(sum(s) FILTER (WHERE ces = 4), 0)::int AS ces4,
      coalesce(sum(s) FILTER (WHERE ces = 5), 0)::int AS ces5,
      coalesce(sum(s) FILTER (WHERE ces = 6), 0)::int AS ces6,
      coalesce(sum(s) FILTER (WHERE ces = 7), 0)::int AS ces7,
      coalesce(sum(s) FILTER (WHERE experience_rating = 1), 0)::int AS rating1,
      coalesce(sum(s) FILTER (WHERE experience_rating = 2), 0)::int AS rating2,
      coalesce(sum(s) FILTER (WHERE experience_rating = 3), 0)::int AS rating3,
      coalesce(sum(s) FILTER (WHERE experience_rating = 4), 0)::int AS rating4,
      coalesce(sum(s) FILTER (WHERE experience_rating = 5), 0)::int AS rating5
    FROM (SELECT 1 AS s, * FROM new_rows UNION ALL SELECT -1, * FROM old_rows) changed
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
  ) delta
  WHERE responses <> 0 OR nps0 <> 0 OR nps1 <> 0 OR nps2 <> 0 OR nps3 <> 0 OR nps4 <> 0 OR nps5 <> 0 OR nps6 <> 0 OR nps7 <> 0 OR nps8 <> 0 OR nps9 <> 0 OR nps10 <> 0 OR csat1 <> 0 OR csat2 <> 0 OR csat3 <> 0 OR csat4 <> 0 OR csat5 <> 0 OR ces1 <> 0 OR ces2 <> 0 OR ces3 <> 0 OR ces4 <> 0 OR ces5 <> 0 OR ces6 <> 0 OR ces7 <> 0 OR rating1 <> 0 OR rating2 <> 0 OR rating3 <> 0 OR rating4 <> 0 OR rating5 <> 0;
  RETURN NULL;
END $$;

CREATE FUNCTION tp_feedback_rollup_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO feedback_rollup_delta
  SELECT * FROM (
    SELECT workspace_id, (occurred_at AT TIME ZONE 'UTC')::date AS day,
      coalesce(lifecycle_stage, '') AS lifecycle_stage, coalesce(personality_type, '') AS personality_type, coalesce(segment, '') AS segment, coalesce(channel, '') AS channel, coalesce(touchpoint, '') AS touchpoint, source,
      sum(s)::int AS responses,
      coalesce(sum(s) FILTER (WHERE nps = 0), 0)::int AS nps0,
      coalesce(sum(s) FILTER (WHERE nps = 1), 0)::int AS nps1,
      coalesce(sum(s) FILTER (WHERE nps = 2), 0)::int AS nps2,
      coalesce(sum(s) FILTER (WHERE nps = 3), 0)::int AS nps3,
      coalesce(sum(s) FILTER (WHERE nps = 4), 0)::int AS nps4,
      coalesce(sum(s) FILTER (WHERE nps = 5), 0)::int AS nps5,
      coalesce(sum(s) FILTER (WHERE nps = 6), 0)::int AS nps6,
      coalesce(sum(s) FILTER (WHERE nps = 7), 0)::int AS nps7,
      coalesce(sum(s) FILTER (WHERE nps = 8), 0)::int AS nps8,
      coalesce(sum(s) FILTER (WHERE nps = 9), 0)::int AS nps9,
      coalesce(sum(s) FILTER (WHERE nps = 10), 0)::int AS nps10,
      coalesce(sum(s) FILTER (WHERE csat = 1), 0)::int AS csat1,
      coalesce(sum(s) FILTER (WHERE csat = 2), 0)::int AS csat2,
      coalesce(sum(s) FILTER (WHERE csat = 3), 0)::int AS csat3,
      coalesce(sum(s) FILTER (WHERE csat = 4), 0)::int AS csat4,
      coalesce(sum(s) FILTER (WHERE csat = 5), 0)::int AS csat5,
      coalesce(sum(s) FILTER (WHERE ces = 1), 0)::int AS ces1,
      coalesce(sum(s) FILTER (WHERE ces = 2), 0)::int AS ces2,
      coalesce(sum(s) FILTER (WHERE ces = 3), 0)::int AS ces3,
      coalesce(sum(s) FILTER (WHERE ces = 4), 0)::int AS ces4,
      coalesce(sum(s) FILTER (WHERE ces = 5), 0)::int AS ces5,
      coalesce(sum(s) FILTER (WHERE ces = 6), 0)::int AS ces6,
      coalesce(sum(s) FILTER (WHERE ces = 7), 0)::int AS ces7,
      coalesce(sum(s) FILTER (WHERE experience_rating = 1), 0)::int AS rating1,
      coalesce(sum(s) FILTER (WHERE experience_rating = 2), 0)::int AS rating2,
      coalesce(sum(s) FILTER (WHERE experience_rating = 3), 0)::int AS rating3,
      coalesce(sum(s) FILTER (WHERE experience_rating = 4), 0)::int AS rating4,
      coalesce(sum(s) FILTER (WHERE experience_rating = 5), 0)::int AS rating5
    FROM (SELECT -1 AS s, * FROM old_rows) changed
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
  ) delta
  WHERE responses <> 0 OR nps0 <> 0 OR nps1 <> 0 OR nps2 <> 0 OR nps3 <> 0 OR nps4 <> 0 OR nps5 <> 0 OR nps6 <> 0 OR nps7 <> 0 OR nps8 <> 0 OR nps9 <> 0 OR nps10 <> 0 OR csat1 <> 0 OR csat2 <> 0 OR csat3 <> 0 OR csat4 <> 0 OR csat5 <> 0 OR ces1 <> 0 OR ces2 <> 0 OR ces3 <> 0 OR ces4 <> 0 OR ces5 <> 0 OR ces6 <> 0 OR ces7 <> 0 OR rating1 <> 0 OR rating2 <> 0 OR rating3 <> 0 OR rating4 <> 0 OR rating5 <> 0;
  RETURN NULL;
END $$;

CREATE TRIGGER feedback_rollup_insert AFTER INSERT ON feedback
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tp_feedback_rollup_insert();
CREATE TRIGGER feedback_rollup_update AFTER UPDATE ON feedback
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tp_feedback_rollup_update();
CREATE TRIGGER feedback_rollup_delete AFTER DELETE ON feedback
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION tp_feedback_rollup_delete();

-- Moves up to `most` delta rows into the three grains; one fold at a time. Returns the number of
-- delta rows moved. A cell whose records all moved elsewhere keeps a row of zeros; readers skip
-- such cells.
CREATE FUNCTION tp_fold_feedback_rollup(most integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE moved integer;
BEGIN
  PERFORM pg_advisory_xact_lock(7245310);
  WITH taken AS (
    DELETE FROM feedback_rollup_delta
    WHERE ctid = ANY (ARRAY(SELECT ctid FROM feedback_rollup_delta LIMIT most))
    RETURNING *
  ),
  full_grain AS (
  INSERT INTO feedback_rollup
  SELECT workspace_id, day, lifecycle_stage, personality_type, segment, channel, touchpoint, source, sum(responses)::int AS responses, sum(nps0)::int AS nps0, sum(nps1)::int AS nps1, sum(nps2)::int AS nps2, sum(nps3)::int AS nps3, sum(nps4)::int AS nps4, sum(nps5)::int AS nps5, sum(nps6)::int AS nps6, sum(nps7)::int AS nps7, sum(nps8)::int AS nps8, sum(nps9)::int AS nps9, sum(nps10)::int AS nps10, sum(csat1)::int AS csat1, sum(csat2)::int AS csat2, sum(csat3)::int AS csat3, sum(csat4)::int AS csat4, sum(csat5)::int AS csat5, sum(ces1)::int AS ces1, sum(ces2)::int AS ces2, sum(ces3)::int AS ces3, sum(ces4)::int AS ces4, sum(ces5)::int AS ces5, sum(ces6)::int AS ces6, sum(ces7)::int AS ces7, sum(rating1)::int AS rating1, sum(rating2)::int AS rating2, sum(rating3)::int AS rating3, sum(rating4)::int AS rating4, sum(rating5)::int AS rating5 FROM taken GROUP BY workspace_id, day, lifecycle_stage, personality_type, segment, channel, touchpoint, source
  ON CONFLICT (workspace_id, day, lifecycle_stage, personality_type, segment, channel, touchpoint, source) DO UPDATE SET
      responses = feedback_rollup.responses + excluded.responses,
      nps0 = feedback_rollup.nps0 + excluded.nps0,
      nps1 = feedback_rollup.nps1 + excluded.nps1,
      nps2 = feedback_rollup.nps2 + excluded.nps2,
      nps3 = feedback_rollup.nps3 + excluded.nps3,
      nps4 = feedback_rollup.nps4 + excluded.nps4,
      nps5 = feedback_rollup.nps5 + excluded.nps5,
      nps6 = feedback_rollup.nps6 + excluded.nps6,
      nps7 = feedback_rollup.nps7 + excluded.nps7,
      nps8 = feedback_rollup.nps8 + excluded.nps8,
      nps9 = feedback_rollup.nps9 + excluded.nps9,
      nps10 = feedback_rollup.nps10 + excluded.nps10,
      csat1 = feedback_rollup.csat1 + excluded.csat1,
      csat2 = feedback_rollup.csat2 + excluded.csat2,
      csat3 = feedback_rollup.csat3 + excluded.csat3,
      csat4 = feedback_rollup.csat4 + excluded.csat4,
      csat5 = feedback_rollup.csat5 + excluded.csat5,
      ces1 = feedback_rollup.ces1 + excluded.ces1,
      ces2 = feedback_rollup.ces2 + excluded.ces2,
      ces3 = feedback_rollup.ces3 + excluded.ces3,
      ces4 = feedback_rollup.ces4 + excluded.ces4,
      ces5 = feedback_rollup.ces5 + excluded.ces5,
      ces6 = feedback_rollup.ces6 + excluded.ces6,
      ces7 = feedback_rollup.ces7 + excluded.ces7,
      rating1 = feedback_rollup.rating1 + excluded.rating1,
      rating2 = feedback_rollup.rating2 + excluded.rating2,
      rating3 = feedback_rollup.rating3 + excluded.rating3,
      rating4 = feedback_rollup.rating4 + excluded.rating4,
      rating5 = feedback_rollup.rating5 + excluded.rating5
  ),
  month_grain AS (
  INSERT INTO feedback_rollup_month
  SELECT workspace_id, date_trunc('month', day)::date AS month, lifecycle_stage, personality_type, segment, channel, touchpoint, source, sum(responses)::int AS responses, sum(nps0)::int AS nps0, sum(nps1)::int AS nps1, sum(nps2)::int AS nps2, sum(nps3)::int AS nps3, sum(nps4)::int AS nps4, sum(nps5)::int AS nps5, sum(nps6)::int AS nps6, sum(nps7)::int AS nps7, sum(nps8)::int AS nps8, sum(nps9)::int AS nps9, sum(nps10)::int AS nps10, sum(csat1)::int AS csat1, sum(csat2)::int AS csat2, sum(csat3)::int AS csat3, sum(csat4)::int AS csat4, sum(csat5)::int AS csat5, sum(ces1)::int AS ces1, sum(ces2)::int AS ces2, sum(ces3)::int AS ces3, sum(ces4)::int AS ces4, sum(ces5)::int AS ces5, sum(ces6)::int AS ces6, sum(ces7)::int AS ces7, sum(rating1)::int AS rating1, sum(rating2)::int AS rating2, sum(rating3)::int AS rating3, sum(rating4)::int AS rating4, sum(rating5)::int AS rating5
  FROM taken GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
  ON CONFLICT (workspace_id, month, lifecycle_stage, personality_type, segment, channel, touchpoint, source) DO UPDATE SET
      responses = feedback_rollup_month.responses + excluded.responses,
      nps0 = feedback_rollup_month.nps0 + excluded.nps0,
      nps1 = feedback_rollup_month.nps1 + excluded.nps1,
      nps2 = feedback_rollup_month.nps2 + excluded.nps2,
      nps3 = feedback_rollup_month.nps3 + excluded.nps3,
      nps4 = feedback_rollup_month.nps4 + excluded.nps4,
      nps5 = feedback_rollup_month.nps5 + excluded.nps5,
      nps6 = feedback_rollup_month.nps6 + excluded.nps6,
      nps7 = feedback_rollup_month.nps7 + excluded.nps7,
      nps8 = feedback_rollup_month.nps8 + excluded.nps8,
      nps9 = feedback_rollup_month.nps9 + excluded.nps9,
      nps10 = feedback_rollup_month.nps10 + excluded.nps10,
      csat1 = feedback_rollup_month.csat1 + excluded.csat1,
      csat2 = feedback_rollup_month.csat2 + excluded.csat2,
      csat3 = feedback_rollup_month.csat3 + excluded.csat3,
      csat4 = feedback_rollup_month.csat4 + excluded.csat4,
      csat5 = feedback_rollup_month.csat5 + excluded.csat5,
      ces1 = feedback_rollup_month.ces1 + excluded.ces1,
      ces2 = feedback_rollup_month.ces2 + excluded.ces2,
      ces3 = feedback_rollup_month.ces3 + excluded.ces3,
      ces4 = feedback_rollup_month.ces4 + excluded.ces4,
      ces5 = feedback_rollup_month.ces5 + excluded.ces5,
      ces6 = feedback_rollup_month.ces6 + excluded.ces6,
      ces7 = feedback_rollup_month.ces7 + excluded.ces7,
      rating1 = feedback_rollup_month.rating1 + excluded.rating1,
      rating2 = feedback_rollup_month.rating2 + excluded.rating2,
      rating3 = feedback_rollup_month.rating3 + excluded.rating3,
      rating4 = feedback_rollup_month.rating4 + excluded.rating4,
      rating5 = feedback_rollup_month.rating5 + excluded.rating5
  ),
  day_grain AS (
  INSERT INTO feedback_rollup_day
  SELECT workspace_id, day, sum(responses)::int AS responses, sum(nps0)::int AS nps0, sum(nps1)::int AS nps1, sum(nps2)::int AS nps2, sum(nps3)::int AS nps3, sum(nps4)::int AS nps4, sum(nps5)::int AS nps5, sum(nps6)::int AS nps6, sum(nps7)::int AS nps7, sum(nps8)::int AS nps8, sum(nps9)::int AS nps9, sum(nps10)::int AS nps10, sum(csat1)::int AS csat1, sum(csat2)::int AS csat2, sum(csat3)::int AS csat3, sum(csat4)::int AS csat4, sum(csat5)::int AS csat5, sum(ces1)::int AS ces1, sum(ces2)::int AS ces2, sum(ces3)::int AS ces3, sum(ces4)::int AS ces4, sum(ces5)::int AS ces5, sum(ces6)::int AS ces6, sum(ces7)::int AS ces7, sum(rating1)::int AS rating1, sum(rating2)::int AS rating2, sum(rating3)::int AS rating3, sum(rating4)::int AS rating4, sum(rating5)::int AS rating5 FROM taken GROUP BY workspace_id, day
  ON CONFLICT (workspace_id, day) DO UPDATE SET
      responses = feedback_rollup_day.responses + excluded.responses,
      nps0 = feedback_rollup_day.nps0 + excluded.nps0,
      nps1 = feedback_rollup_day.nps1 + excluded.nps1,
      nps2 = feedback_rollup_day.nps2 + excluded.nps2,
      nps3 = feedback_rollup_day.nps3 + excluded.nps3,
      nps4 = feedback_rollup_day.nps4 + excluded.nps4,
      nps5 = feedback_rollup_day.nps5 + excluded.nps5,
      nps6 = feedback_rollup_day.nps6 + excluded.nps6,
      nps7 = feedback_rollup_day.nps7 + excluded.nps7,
      nps8 = feedback_rollup_day.nps8 + excluded.nps8,
      nps9 = feedback_rollup_day.nps9 + excluded.nps9,
      nps10 = feedback_rollup_day.nps10 + excluded.nps10,
      csat1 = feedback_rollup_day.csat1 + excluded.csat1,
      csat2 = feedback_rollup_day.csat2 + excluded.csat2,
      csat3 = feedback_rollup_day.csat3 + excluded.csat3,
      csat4 = feedback_rollup_day.csat4 + excluded.csat4,
      csat5 = feedback_rollup_day.csat5 + excluded.csat5,
      ces1 = feedback_rollup_day.ces1 + excluded.ces1,
      ces2 = feedback_rollup_day.ces2 + excluded.ces2,
      ces3 = feedback_rollup_day.ces3 + excluded.ces3,
      ces4 = feedback_rollup_day.ces4 + excluded.ces4,
      ces5 = feedback_rollup_day.ces5 + excluded.ces5,
      ces6 = feedback_rollup_day.ces6 + excluded.ces6,
      ces7 = feedback_rollup_day.ces7 + excluded.ces7,
      rating1 = feedback_rollup_day.rating1 + excluded.rating1,
      rating2 = feedback_rollup_day.rating2 + excluded.rating2,
      rating3 = feedback_rollup_day.rating3 + excluded.rating3,
      rating4 = feedback_rollup_day.rating4 + excluded.rating4,
      rating5 = feedback_rollup_day.rating5 + excluded.rating5
  )
  SELECT count(*) INTO moved FROM taken;
  RETURN moved;
END $$;

-- The feedback already stored.
INSERT INTO feedback_rollup
SELECT workspace_id, (occurred_at AT TIME ZONE 'UTC')::date AS day,
      coalesce(lifecycle_stage, '') AS lifecycle_stage, coalesce(personality_type, '') AS personality_type, coalesce(segment, '') AS segment, coalesce(channel, '') AS channel, coalesce(touchpoint, '') AS touchpoint, source,
  sum(1)::int AS responses,
      coalesce(sum(1) FILTER (WHERE nps = 0), 0)::int AS nps0,
      coalesce(sum(1) FILTER (WHERE nps = 1), 0)::int AS nps1,
      coalesce(sum(1) FILTER (WHERE nps = 2), 0)::int AS nps2,
      coalesce(sum(1) FILTER (WHERE nps = 3), 0)::int AS nps3,
      coalesce(sum(1) FILTER (WHERE nps = 4), 0)::int AS nps4,
      coalesce(sum(1) FILTER (WHERE nps = 5), 0)::int AS nps5,
      coalesce(sum(1) FILTER (WHERE nps = 6), 0)::int AS nps6,
      coalesce(sum(1) FILTER (WHERE nps = 7), 0)::int AS nps7,
      coalesce(sum(1) FILTER (WHERE nps = 8), 0)::int AS nps8,
      coalesce(sum(1) FILTER (WHERE nps = 9), 0)::int AS nps9,
      coalesce(sum(1) FILTER (WHERE nps = 10), 0)::int AS nps10,
      coalesce(sum(1) FILTER (WHERE csat = 1), 0)::int AS csat1,
      coalesce(sum(1) FILTER (WHERE csat = 2), 0)::int AS csat2,
      coalesce(sum(1) FILTER (WHERE csat = 3), 0)::int AS csat3,
      coalesce(sum(1) FILTER (WHERE csat = 4), 0)::int AS csat4,
      coalesce(sum(1) FILTER (WHERE csat = 5), 0)::int AS csat5,
      coalesce(sum(1) FILTER (WHERE ces = 1), 0)::int AS ces1,
      coalesce(sum(1) FILTER (WHERE ces = 2), 0)::int AS ces2,
      coalesce(sum(1) FILTER (WHERE ces = 3), 0)::int AS ces3,
      coalesce(sum(1) FILTER (WHERE ces = 4), 0)::int AS ces4,
      coalesce(sum(1) FILTER (WHERE ces = 5), 0)::int AS ces5,
      coalesce(sum(1) FILTER (WHERE ces = 6), 0)::int AS ces6,
      coalesce(sum(1) FILTER (WHERE ces = 7), 0)::int AS ces7,
      coalesce(sum(1) FILTER (WHERE experience_rating = 1), 0)::int AS rating1,
      coalesce(sum(1) FILTER (WHERE experience_rating = 2), 0)::int AS rating2,
      coalesce(sum(1) FILTER (WHERE experience_rating = 3), 0)::int AS rating3,
      coalesce(sum(1) FILTER (WHERE experience_rating = 4), 0)::int AS rating4,
      coalesce(sum(1) FILTER (WHERE experience_rating = 5), 0)::int AS rating5
FROM feedback
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;

INSERT INTO feedback_rollup_month
SELECT workspace_id, date_trunc('month', day)::date, lifecycle_stage, personality_type, segment, channel, touchpoint, source, sum(responses)::int AS responses, sum(nps0)::int AS nps0, sum(nps1)::int AS nps1, sum(nps2)::int AS nps2, sum(nps3)::int AS nps3, sum(nps4)::int AS nps4, sum(nps5)::int AS nps5, sum(nps6)::int AS nps6, sum(nps7)::int AS nps7, sum(nps8)::int AS nps8, sum(nps9)::int AS nps9, sum(nps10)::int AS nps10, sum(csat1)::int AS csat1, sum(csat2)::int AS csat2, sum(csat3)::int AS csat3, sum(csat4)::int AS csat4, sum(csat5)::int AS csat5, sum(ces1)::int AS ces1, sum(ces2)::int AS ces2, sum(ces3)::int AS ces3, sum(ces4)::int AS ces4, sum(ces5)::int AS ces5, sum(ces6)::int AS ces6, sum(ces7)::int AS ces7, sum(rating1)::int AS rating1, sum(rating2)::int AS rating2, sum(rating3)::int AS rating3, sum(rating4)::int AS rating4, sum(rating5)::int AS rating5
FROM feedback_rollup GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;

INSERT INTO feedback_rollup_day
SELECT workspace_id, day, sum(responses)::int AS responses, sum(nps0)::int AS nps0, sum(nps1)::int AS nps1, sum(nps2)::int AS nps2, sum(nps3)::int AS nps3, sum(nps4)::int AS nps4, sum(nps5)::int AS nps5, sum(nps6)::int AS nps6, sum(nps7)::int AS nps7, sum(nps8)::int AS nps8, sum(nps9)::int AS nps9, sum(nps10)::int AS nps10, sum(csat1)::int AS csat1, sum(csat2)::int AS csat2, sum(csat3)::int AS csat3, sum(csat4)::int AS csat4, sum(csat5)::int AS csat5, sum(ces1)::int AS ces1, sum(ces2)::int AS ces2, sum(ces3)::int AS ces3, sum(ces4)::int AS ces4, sum(ces5)::int AS ces5, sum(ces6)::int AS ces6, sum(ces7)::int AS ces7, sum(rating1)::int AS rating1, sum(rating2)::int AS rating2, sum(rating3)::int AS rating3, sum(rating4)::int AS rating4, sum(rating5)::int AS rating5 FROM feedback_rollup GROUP BY workspace_id, day;
