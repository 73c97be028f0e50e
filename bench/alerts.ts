/**
 * Closed-loop benchmarks (issue: closed loop). Run with `npm run bench:alerts`; options:
 *   --db pglite,postgres   --only latency,throughput   --runs 3   --seconds 30   --warmup 3   --records 100000
 * latency: with 50 active alert rules and 500 feedback records/s of background load, the time from
 *   the 2xx of a detractor's feedback to its case's webhook arriving at a loopback receiver (the case
 *   is committed before the webhook is queued), p50 and p99 over `seconds`, after `warmup` seconds
 *   of the same load whose probes are not counted (connections opening, statements being prepared).
 * throughput: HTTP batch ingestion of feedback with those 50 rules against none, back to back.
 * Prints a Markdown table for docs/benchmarks.md and writes it to .tmp/bench/alerts-latest.md.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { adminHeaders, api, fmt, median, postAll, report, serveFresh, withBenchDatabases } from './lib.js';
import { openLoop, percentile } from './open-loop.js';

const { values: args } = parseArgs({
  options: {
    db: { type: 'string', default: 'pglite,postgres' },
    only: { type: 'string', default: 'latency,throughput' },
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '3' },
    records: { type: 'string', default: '100000' },
  },
});
const kinds = (args.db as string).split(',') as ('pglite' | 'postgres')[];
const only = new Set((args.only as string).split(','));
const runs = Number(args.runs);
const seconds = Number(args.seconds);
const warmup = Number(args.warmup);
const records = Number(args.records);
const { log, save } = report('alerts', runs);

const headers = adminHeaders;

let serverUrl = '';
const serve = (kind: 'pglite' | 'postgres', label: string) => serveFresh(kind, label, serverUrl);

const TOUCHPOINTS = ['billing', 'onboarding', 'support', 'delivery', 'returns', 'sales', 'payment', 'moving'];
const SEGMENTS = ['consumer', 'small_business', 'enterprise'];
const WORDS = [
  'cancel',
  'lawyer',
  'refund',
  'complaint',
  'never again',
  'rude',
  'broken',
  'waited',
  'charged',
  'wrong',
];

/** 50 rules of the kinds a CX team writes: one catches every detractor, the others are narrower. */
const RULES = [
  { name: 'Detractor', severity: 'high', condition: { field: 'nps', op: 'lte', value: 6 } },
  ...TOUCHPOINTS.flatMap((touchpoint) => [
    {
      name: `Disastrous at ${touchpoint}`,
      severity: 'critical',
      condition: {
        all: [
          { field: 'touchpoint', op: 'eq', value: touchpoint },
          { field: 'experienceRating', op: 'eq', value: 1 },
        ],
      },
    },
    {
      name: `Low CSAT at ${touchpoint}`,
      severity: 'medium',
      condition: {
        all: [
          { field: 'touchpoint', op: 'eq', value: touchpoint },
          { field: 'csat', op: 'lte', value: 2 },
        ],
      },
    },
  ]),
  ...WORDS.map((word) => ({
    name: `Says "${word}"`,
    severity: 'high',
    condition: { field: 'text', op: 'contains', value: word },
  })),
  ...SEGMENTS.flatMap((segment) => [
    {
      name: `Poor experience, ${segment}`,
      severity: 'medium',
      condition: {
        all: [
          { field: 'segment', op: 'eq', value: segment },
          { field: 'experienceRating', op: 'eq', value: 1 },
          { field: 'value', op: 'gte', value: 15000 },
        ],
      },
    },
    {
      name: `High effort, ${segment}`,
      severity: 'low',
      condition: {
        all: [
          { field: 'segment', op: 'eq', value: segment },
          { field: 'ces', op: 'lte', value: 2 },
        ],
      },
    },
  ]),
  {
    name: 'Promoter turned detractor',
    severity: 'critical',
    condition: { pattern: 'promoterTurnedDetractor' },
  },
  {
    name: 'Repeat contact and detractor',
    severity: 'high',
    condition: {
      all: [
        { pattern: 'repeatContact', count: 3, withinDays: 7 },
        { field: 'nps', op: 'lte', value: 6 },
      ],
    },
  },
  { name: 'Bounced', severity: 'medium', condition: { pattern: 'transfers', atLeast: 3 } },
  { name: 'Long wait', severity: 'medium', condition: { pattern: 'longWait', overSeconds: 900 } },
  { name: 'Unresolved', severity: 'low', condition: { field: 'resolved', op: 'eq', value: false } },
  { name: 'Churn', severity: 'critical', condition: { field: 'eventType', op: 'eq', value: 'churn' } },
  {
    name: 'Big refund',
    severity: 'high',
    condition: {
      all: [
        { field: 'eventType', op: 'eq', value: 'refund' },
        { field: 'amount', op: 'gt', value: 500 },
      ],
    },
  },
  { name: 'Complaint', severity: 'high', condition: { field: 'source', op: 'eq', value: 'complaint' } },
  {
    name: 'Ending customer unhappy',
    severity: 'high',
    condition: {
      all: [
        { field: 'lifecycleStage', op: 'eq', value: 'ending' },
        { field: 'nps', op: 'lte', value: 6 },
      ],
    },
  },
  {
    name: 'New customer unhappy',
    severity: 'high',
    condition: {
      all: [
        { field: 'lifecycleStage', op: 'eq', value: 'new' },
        { field: 'nps', op: 'lte', value: 6 },
      ],
    },
  },
  {
    name: 'Valuable and unhappy',
    severity: 'critical',
    condition: {
      all: [
        { field: 'value', op: 'gte', value: 19000 },
        { field: 'nps', op: 'lte', value: 6 },
      ],
    },
  },
  {
    name: 'Relationship type, poor',
    severity: 'medium',
    condition: {
      all: [
        { field: 'personalityType', op: 'eq', value: 'relationship' },
        { field: 'experienceRating', op: 'lte', value: 2 },
      ],
    },
  },
  {
    name: 'Social complaint',
    severity: 'high',
    condition: {
      all: [
        { field: 'channel', op: 'in', value: ['social'] },
        { field: 'nps', op: 'lte', value: 4 },
      ],
    },
  },
  {
    name: 'Not a detractor but bad text',
    severity: 'low',
    condition: {
      all: [
        { not: { field: 'nps', op: 'lte', value: 6 } },
        { field: 'text', op: 'matches', value: 'terrible|awful' },
      ],
    },
  },
  {
    name: 'Chat detractor',
    severity: 'medium',
    condition: {
      all: [
        { field: 'channel', op: 'eq', value: 'chat' },
        { field: 'nps', op: 'lte', value: 6 },
      ],
    },
  },
  {
    name: 'Enterprise at onboarding',
    severity: 'high',
    condition: {
      all: [
        { field: 'segment', op: 'eq', value: 'enterprise' },
        { field: 'touchpoint', op: 'eq', value: 'onboarding' },
        { field: 'experienceRating', op: 'lte', value: 2 },
      ],
    },
  },
  {
    name: 'Review with low score',
    severity: 'medium',
    condition: {
      all: [
        { field: 'source', op: 'eq', value: 'review' },
        { field: 'nps', op: 'lte', value: 3 },
      ],
    },
  },
];
if (RULES.length !== 50) throw new Error(`expected 50 rules, got ${RULES.length}`);

const addRules = async (url: string) => {
  for (const rule of RULES) await api(url, 'POST', '/api/v1/alert-rules', rule);
};

/**
 * Background feedback: 10% detractors (a fifth of them naming a word the rules look for), spread
 * over 5,000 customers.
 */
const feedback = (n: number, prefix: string) => ({
  externalId: `${prefix}-${n}`,
  customerId: `C-${(n * 7919) % 5000}`,
  source: 'survey',
  channel: 'email',
  touchpoint: TOUCHPOINTS[n % TOUCHPOINTS.length],
  occurredAt: new Date().toISOString(),
  nps: n % 10 === 0 ? n % 7 : 7 + (n % 4),
  // One detractor comment in five names a word a rule looks for.
  text: n % 50 === 0 ? `it was bad, ${WORDS[(n / 50) % WORDS.length]}` : n % 10 === 0 ? 'not good' : 'fine',
});

const createCustomers = async (url: string) => {
  for (let i = 0; i < 5000; i += 1000) {
    await api(
      url,
      'POST',
      '/api/v1/customers',
      Array.from({ length: 1000 }, (_, k) => ({
        externalId: `C-${i + k}`,
        segment: SEGMENTS[(i + k) % 3],
        value: ((i + k) % 20) * 1000,
      })),
    );
  }
};

/** A loopback receiver; resolves each probe's record id to the time its case.opened webhook arrived. */
const startReceiver = async () => {
  const arrived = new Map<string, number>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const at = performance.now();
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        const id = body?.data?.alert?.record?.externalId;
        if (typeof id === 'string' && !arrived.has(id)) arrived.set(id, at);
      } catch {}
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    arrived,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};

const benchLatency = async (kind: 'pglite' | 'postgres') => {
  const p50s: number[] = [];
  const p99s: number[] = [];
  let lost = 0;
  let probes = 0;
  const casesPerSecond: number[] = [];
  for (let run = 0; run < runs; run++) {
    const server = await serve(kind, `alerts_latency_${run}`);
    const receiver = await startReceiver();
    try {
      await addRules(server.url);
      await api(server.url, 'POST', '/api/v1/webhooks', { url: receiver.url, events: ['case.opened'] });
      await createCustomers(server.url);
      const acknowledged = new Map<string, number>();
      // Probes: a new customer's detractor feedback every 100 ms, timed from its 2xx; those of the
      // warm-up are sent but not counted.
      const probeCount = Math.round(seconds * 10);
      const uncounted = Math.round(warmup * 10);
      const probing = openLoop(10, warmup + seconds, async (i, dispatcher) => {
        const id = `P-${run}-${i}`;
        const response = await request(`${server.url}/api/v1/feedback`, {
          method: 'POST',
          dispatcher,
          headers,
          body: JSON.stringify({
            externalId: id,
            customerId: `PC-${run}-${i}`,
            source: 'survey',
            channel: 'email',
            touchpoint: 'billing',
            occurredAt: new Date().toISOString(),
            nps: 2,
          }),
        });
        await response.body.dump();
        if (response.statusCode === 200 && i >= uncounted) acknowledged.set(id, performance.now());
        return response.statusCode;
      });
      // Background: 500 records/s as 100 requests/s of 5 records.
      const background = openLoop(100, warmup + seconds, async (i, dispatcher) => {
        const response = await request(`${server.url}/api/v1/feedback`, {
          method: 'POST',
          dispatcher,
          headers,
          body: JSON.stringify(Array.from({ length: 5 }, (_, k) => feedback(i * 5 + k, `B${run}`))),
        });
        await response.body.dump();
        return response.statusCode;
      });
      const [, load] = await Promise.all([probing, background]);
      const newest = await api(server.url, 'GET', '/api/v1/cases?limit=1');
      casesPerSecond.push((newest.items[0]?.id ?? 0) / (warmup + seconds));
      // Give the last probes time to arrive.
      const deadline = performance.now() + 10_000;
      // (Every probe's own webhook: background detractors open cases and send webhooks too.)
      const waiting = () => [...acknowledged.keys()].some((id) => !receiver.arrived.has(id));
      while (performance.now() < deadline && waiting()) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const byProbe: [string, number][] = [];
      for (const [id, at] of acknowledged) {
        const delivered = receiver.arrived.get(id);
        if (delivered === undefined) lost++;
        else byProbe.push([id.split('-').at(-1) as string, delivered - at]);
      }
      const latencies = byProbe.map(([, ms]) => ms);
      // Which probes (by number, 10 a second) took longest: stalls show as neighbours.
      const slowest = byProbe
        .sort((a, b) => b[1] - a[1])
        .slice(0, 5)
        .map(([probe, ms]) => `#${probe} ${fmt(ms, 0)} ms`);
      probes += probeCount;
      p50s.push(percentile(latencies, 50));
      p99s.push(percentile(latencies, 99));
      console.error(
        `  latency ${kind} run ${run + 1}: p50 ${fmt(percentile(latencies, 50), 1)} ms, p99 ${fmt(percentile(latencies, 99), 1)} ms over ${latencies.length} probes (slowest ${slowest.join(', ')}); background ${load.sent * 5} records, ${load.errors} errors, p99 ${fmt(percentile(load.latencies, 99), 1)} ms`,
      );
    } finally {
      await receiver.close();
      await server.stop();
    }
  }
  const p50 = median(p50s);
  const p99 = median(p99s);
  log(
    `| 2xx of a detractor's feedback → case opened and its webhook received, 50 rules, 500 records/s background opening ≈${fmt(median(casesPerSecond))} cases/s (${fmt(probes)} probes after ${warmup} s of warm-up each run${lost ? `, ${lost} not delivered in 10 s` : ''}) | ${kind} | p50 ${fmt(p50, 1)} ms, p99 ${fmt(p99, 1)} ms | p50 ≤ 50 ms, p99 ≤ 250 ms | ${p50 <= 50 && p99 <= 250 && lost === 0 ? 'met' : 'NOT met'} |`,
  );
};

const bodies = (prefix: string) => {
  const list: string[] = [];
  for (let i = 0; i < records; i += 1000) {
    list.push(
      JSON.stringify(Array.from({ length: Math.min(1000, records - i) }, (_, k) => feedback(i + k, prefix))),
    );
  }
  return list;
};

const ingest = async (url: string, list: string[]) =>
  records / (await postAll(url, '/api/v1/feedback', list));

const benchThroughput = async (kind: 'pglite' | 'postgres') => {
  const without: number[] = [];
  const withRules: number[] = [];
  let cases = 0;
  for (let run = 0; run < runs; run++) {
    for (const rules of [false, true]) {
      const server = await serve(kind, `alerts_throughput_${run}_${rules}`);
      try {
        if (rules) await addRules(server.url);
        await createCustomers(server.url);
        const rate = await ingest(server.url, bodies(`T${run}`));
        (rules ? withRules : without).push(rate);
        if (rules) {
          const list = await api(server.url, 'GET', '/api/v1/cases?limit=1');
          cases = list.items[0]?.id ?? 0;
        }
        console.error(
          `  throughput ${kind} run ${run + 1} ${rules ? 'with 50 rules' : 'without'}: ${fmt(rate)} records/s`,
        );
      } finally {
        await server.stop();
      }
    }
  }
  const off = median(without);
  const on = median(withRules);
  const change = (100 * (on - off)) / off;
  log(
    `| HTTP ingestion of ${fmt(records)} feedback records (1,000/request, 4 in flight, 10% detractors) with 50 active rules (≈${fmt(cases)} cases opened meanwhile) vs none | ${kind} | ${fmt(on)} vs ${fmt(off)} records/s (${change >= 0 ? '+' : ''}${fmt(change, 1)}%) | ≥ −15% | ${change >= -15 ? 'met' : 'NOT met'} |`,
  );
};

await withBenchDatabases(kinds, async (url) => {
  serverUrl = url;
  for (const kind of kinds) {
    if (only.has('latency')) await benchLatency(kind);
    if (only.has('throughput')) await benchThroughput(kind);
  }
});
save();
