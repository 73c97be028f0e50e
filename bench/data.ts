import { once } from 'node:events';
import { createWriteStream, existsSync, renameSync } from 'node:fs';

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
