import { once } from 'node:events';
import { createWriteStream, existsSync, renameSync } from 'node:fs';
import { sql } from 'kysely';
import type { Db } from '../src/db/index.js';
import { analyzeRecords } from '../src/db/maintenance.js';
import { fmt } from './lib.js';

/** Benchmark feedback: a realistic mix of scores, channels, touchpoints and comments, deterministic by index. */
const CHANNELS = ['phone', 'email', 'chat', 'web', 'store', 'ivr'];
const TOUCHPOINTS = [
  'billing',
  'onboarding',
  'technical_support',
  'order_status',
  'delivery',
  'returns',
  'sales',
  'cancellation',
  'payment',
  'store_visit',
];
const TEXTS = [
  'Quick and friendly, sorted on the first call.',
  'Waited 20 minutes on hold.',
  'The invoice was wrong again.',
  '',
  'Fine, nothing special.',
];
const START = Date.UTC(2025, 10, 1);

export const CUSTOMERS = 50_000;

export const feedbackRecord = (i: number, prefix = 'F') => {
  const text = TEXTS[i % TEXTS.length] as string;
  return {
    externalId: `${prefix}-${i}`,
    customerId: `C-${(i * 7919) % CUSTOMERS}`,
    source: 'survey',
    channel: CHANNELS[i % CHANNELS.length],
    touchpoint: TOUCHPOINTS[(i >> 3) % TOUCHPOINTS.length],
    occurredAt: new Date(START + i * 31_000).toISOString(),
    nps: (i * 13) % 11,
    csat: 1 + ((i * 7) % 5),
    ces: 1 + ((i * 5) % 7),
    ...(text ? { text } : {}),
    answers: { wifi: 1 + (i % 5) },
  };
};

export const CSV_HEADER =
  'externalId,customerId,source,channel,touchpoint,occurredAt,nps,csat,ces,text,answers.wifi';

export const feedbackCsvLine = (i: number, prefix = 'F'): string => {
  const r = feedbackRecord(i, prefix);
  return `${r.externalId},${r.customerId},${r.source},${r.channel},${r.touchpoint},${r.occurredAt},${r.nps},${r.csat},${r.ces},"${r.text ?? ''}",${r.answers.wifi}`;
};

/** The reference table for raw COPY: the same columns, plain types, a primary key. */
export const COPY_REFERENCE_TABLE = `CREATE TABLE copy_reference (
  external_id text PRIMARY KEY, customer_id text, source text, channel text, touchpoint text,
  occurred_at timestamptz, nps smallint, csat smallint, ces smallint, text text, wifi smallint)`;

/** Writes (once) a CSV file of `rows` feedback rows and returns its path. */
export const ensureCsv = async (path: string, rows: number): Promise<string> => {
  if (existsSync(path)) return path;
  const partial = `${path}.partial`;
  const out = createWriteStream(partial);
  out.write(`${CSV_HEADER}\n`);
  let chunk = '';
  for (let i = 0; i < rows; i++) {
    chunk += `${feedbackCsvLine(i)}\n`;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
  renameSync(partial, path);
  return path;
};

/**
 * N feedback records for 50,000 customers over the 365 days from `from` (default 2025), written
 * by SQL in chunks through the same triggers that keep the pre-aggregates (progress on stderr).
 */
export const loadFeedbackBySql = async (
  db: Db,
  workspaceId: number,
  rows: number,
  from: Date = new Date('2025-01-01T00:00:00Z'),
) => {
  const CHUNK = 500_000;
  await sql`
    INSERT INTO customer (workspace_id, external_id, segment, lifecycle_stage, personality_type)
    SELECT ${workspaceId}, 'C-' || g, (ARRAY['consumer', 'small_business', 'enterprise'])[1 + g % 3],
      (ARRAY['new', 'current', 'advocate', 'ending', 'renewing'])[1 + (g / 3) % 5],
      (ARRAY['prompt', 'relationship', 'unknown'])[1 + (g / 7) % 3]
    FROM generate_series(0, ${CUSTOMERS - 1}::int) g`.execute(db);
  const firstCustomer = Number(
    (
      await sql<{
        id: number;
      }>`SELECT min(id) AS id FROM customer WHERE workspace_id = ${workspaceId}`.execute(db)
    ).rows[0]?.id,
  );
  const started = performance.now();
  for (let start = 0; start < rows; start += CHUNK) {
    const end = Math.min(rows, start + CHUNK) - 1;
    await sql`
      INSERT INTO feedback (workspace_id, external_id, customer_id, source, channel, touchpoint, occurred_at,
        nps, csat, ces, experience_rating, lifecycle_stage, personality_type, segment)
      SELECT ${workspaceId}::bigint, 'F-' || g, ${firstCustomer}::bigint + c, 'survey',
        (ARRAY['phone', 'email', 'chat', 'web', 'app', 'store', 'ivr', 'sms'])[1 + g % 8],
        (ARRAY['onboarding', 'billing', 'payment', 'technical_support', 'order_status', 'delivery', 'returns',
          'sales', 'cancellation', 'store_visit'])[1 + (g / 8) % 10],
        ${from.toISOString()}::timestamptz + (g % 365) * interval '1 day' + ((g * 37) % 86400) * interval '1 second',
        nps, csat, ces,
        LEAST(CASE WHEN nps <= 3 THEN 1 WHEN nps <= 6 THEN 2 WHEN nps <= 8 THEN 3 WHEN nps = 9 THEN 4 ELSE 5 END,
          csat, CASE WHEN ces <= 2 THEN 1 WHEN ces = 3 THEN 2 WHEN ces = 4 THEN 3 WHEN ces <= 6 THEN 4 ELSE 5 END),
        (ARRAY['new', 'current', 'advocate', 'ending', 'renewing'])[1 + (c / 3) % 5],
        (ARRAY['prompt', 'relationship', 'unknown'])[1 + (c / 7) % 3],
        (ARRAY['consumer', 'small_business', 'enterprise'])[1 + c % 3]
      FROM (SELECT g, (g * 7919) % ${CUSTOMERS}::bigint AS c, (g * 13 + g / 17) % 11 AS nps, 1 + (g * 7 + g / 5) % 5 AS csat,
        1 + (g * 3 + g / 11) % 7 AS ces FROM generate_series(${start}::bigint, ${end}::bigint) g) s`.execute(
      db,
    );
    const done = end + 1;
    const seconds = (performance.now() - started) / 1000;
    process.stderr.write(`  loaded ${fmt(done)} / ${fmt(rows)} feedback (${fmt(done / seconds)} rows/s)\n`);
  }
  await analyzeRecords(db);
};
