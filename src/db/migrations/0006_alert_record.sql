-- The case raised by a record (the extremes list links each encounter to its case).
CREATE INDEX alert_record ON alert (record_id, record_kind);
