/**
 * Survey benchmarks (issue: surveys and distribution). Run with `npm run bench:surveys`; options:
 *   --db pglite,postgres   --only sizes,render,triggers   --runs 3   --interactions 100000
 * Sizes of the survey page and the widget script; the page's server time to render; ingestion
 * speed with 20 active triggers against none, measured back to back in the same run.
 * Prints a Markdown table for docs/benchmarks.md and writes it to .tmp/bench/surveys-latest.md.
 */
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { renderQuestionPage } from '../src/surveys/render.js';
import { surveyFromTemplate } from '../src/surveys/templates.js';
import { adminHeaders, api, fmt, median, postAll, report, serveFresh, withBenchDatabases } from './lib.js';
import { percentile } from './open-loop.js';

const { values: args } = parseArgs({
  options: {
    db: { type: 'string', default: 'pglite,postgres' },
    only: { type: 'string', default: 'sizes,render,triggers' },
    runs: { type: 'string', default: '3' },
    interactions: { type: 'string', default: '100000' },
  },
});
const kinds = (args.db as string).split(',') as ('pglite' | 'postgres')[];
const only = new Set((args.only as string).split(','));
const runs = Number(args.runs);
const interactions = Number(args.interactions);
const { log, save } = report('surveys', runs);

const _headers = adminHeaders;

let serverUrl = '';
/** A server on a fresh database; stopping it also removes an embedded database's files. */
const serve = (kind: 'pglite' | 'postgres', label: string) => serveFresh(kind, label, serverUrl);

/** A survey with a link invitation; returns the survey page's URL. */
const surveyLink = async (url: string) => {
  const survey = await api(url, 'POST', '/api/v1/surveys', { template: 'transactional-nps' });
  await api(url, 'POST', '/api/v1/customers', { externalId: 'C-bench', email: 'c@example.com' });
  const invitation = await api(url, 'POST', `/api/v1/surveys/${survey.id}/invitations`, {
    customerId: 'C-bench',
    channel: 'link',
  });
  return invitation.url as string;
};

const benchSizes = async () => {
  const server = await serve('pglite', 'sizes');
  try {
    const link = await surveyLink(server.url);
    const page = await (await fetch(link)).text();
    // The page's JavaScript: inline scripts, and the external ones it names, fetched and counted.
    const inline = [...page.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1] ?? '');
    const external = await Promise.all(
      [...page.matchAll(/<script\b[^>]*\bsrc="([^"]+)"/g)].map(async (m) =>
        (await fetch(new URL(m[1] as string, link))).text(),
      ),
    );
    const scripts = [...inline, ...external];
    const scriptGzip = scripts.length === 0 ? 0 : gzipSync(scripts.join('\n')).length;
    const widget = await (await fetch(`${server.url}/widget.js`)).text();
    const pageBytes =
      Buffer.byteLength(page) + external.reduce((sum, text) => sum + Buffer.byteLength(text), 0);
    const pageGzip = gzipSync(page).length;
    const resources = [...page.matchAll(/<(?:img|link|iframe)\b/g)].length;
    const widgetGzip = gzipSync(widget).length;
    log(
      `| Survey page (NPS question): JavaScript | — | ${scripts.length} scripts, ${fmt(scriptGzip / 1024, 1)} KB gzip | ≤ 15 KB gzip | ${scriptGzip <= 15 * 1024 ? 'met' : 'NOT met'} |`,
    );
    log(
      `| Survey page (NPS question): total transfer (the HTML document and its scripts; ${resources} images, stylesheets or frames named besides) | — | ${fmt(pageBytes / 1024, 1)} KB (${fmt(pageGzip / 1024, 1)} KB gzip) | ≤ 30 KB | ${pageBytes <= 30 * 1024 ? 'met' : 'NOT met'} |`,
    );
    log(
      `| Widget script | — | ${fmt(Buffer.byteLength(widget) / 1024, 1)} KB (${fmt(widgetGzip / 1024, 1)} KB gzip) | ≤ 12 KB gzip | ${widgetGzip <= 12 * 1024 ? 'met' : 'NOT met'} |`,
    );
  } finally {
    await server.stop();
  }
};

const benchRender = async (kind: 'pglite' | 'postgres') => {
  // The renderer alone, in this process.
  const definition = surveyFromTemplate('transactional-nps', {});
  const first = definition.questions[0]?.id as string;
  const renderTimes: number[] = [];
  for (let i = 0; i < 5000; i++) {
    const started = performance.now();
    renderQuestionPage({
      definition,
      language: 'en',
      questionId: first,
      position: 1,
      total: 2,
      actionUrl: '/s/x',
    });
    renderTimes.push(performance.now() - started);
  }
  // The whole GET /s/{token}: token check, invitation and survey read, "opened" write, render.
  const server = await serve(kind, 'render');
  try {
    const link = await surveyLink(server.url);
    for (let i = 0; i < 200; i++) await (await fetch(link)).text();
    const times: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const started = performance.now();
      const response = await fetch(link);
      await response.text();
      times.push(performance.now() - started);
      if (response.status !== 200) throw new Error(`survey page: ${response.status}`);
    }
    times.sort((a, b) => a - b);
    renderTimes.sort((a, b) => a - b);
    log(
      `| Survey page GET /s/{token}, 2,000 sequential requests on loopback (render alone: p50 ${fmt(percentile(renderTimes, 50), 3)} ms) | ${kind} | p50 ${fmt(percentile(times, 50), 2)} ms, p99 ${fmt(percentile(times, 99), 2)} ms | p50 ≤ 5 ms | ${percentile(times, 50) <= 5 ? 'met' : 'NOT met'} |`,
    );
  } finally {
    await server.stop();
  }
};

const CHANNELS = ['phone', 'email', 'chat', 'web', 'store'];
const TOUCHPOINTS = ['billing', 'onboarding', 'support', 'delivery', 'returns', 'sales', 'payment', 'moving'];

/**
 * 20 active triggers over 4 surveys, each on a channel × touchpoint pair (so each interaction
 * matches about half a trigger), sampling 50%, due in a day so that nothing is sent meanwhile.
 */
const addTriggers = async (url: string) => {
  const surveys = [];
  for (let s = 0; s < 4; s++)
    surveys.push(await api(url, 'POST', '/api/v1/surveys', { template: 'csat-after-contact' }));
  for (let t = 0; t < 20; t++) {
    await api(url, 'POST', `/api/v1/surveys/${surveys[t % 4].id}/triggers`, {
      channel: 'email',
      match: {
        channel: CHANNELS[t % CHANNELS.length],
        touchpoint: TOUCHPOINTS[t % TOUCHPOINTS.length],
        resolved: t % 2 === 0,
      },
      delaySeconds: 86_400,
      samplePercent: 50,
    });
  }
};

const interactionBodies = (runStart: number) => {
  const bodies: string[] = [];
  for (let i = 0; i < interactions; i += 1000) {
    bodies.push(
      JSON.stringify(
        Array.from({ length: Math.min(1000, interactions - i) }, (_, k) => {
          const n = i + k;
          return {
            externalId: `I-${n}`,
            customerId: `C-${(n * 7919) % 50_000}`,
            channel: CHANNELS[n % CHANNELS.length],
            touchpoint: TOUCHPOINTS[(n >> 2) % TOUCHPOINTS.length],
            occurredAt: new Date(runStart - (interactions - n) * 10).toISOString(),
            waitSeconds: n % 300,
            transfers: n % 4,
            resolved: n % 3 !== 0,
          };
        }),
      ),
    );
  }
  return bodies;
};

const ingestInteractions = async (url: string, bodies: string[]) => {
  for (let i = 0; i < 50_000; i += 5000) {
    await api(
      url,
      'POST',
      '/api/v1/customers',
      Array.from({ length: 5000 }, (_, k) => ({ externalId: `C-${i + k}`, email: `c${i + k}@example.com` })),
    );
  }
  return interactions / (await postAll(url, '/api/v1/interactions', bodies));
};

const benchTriggers = async (kind: 'pglite' | 'postgres') => {
  const without: number[] = [];
  const withTriggers: number[] = [];
  let invitations = 0;
  for (let run = 0; run < runs; run++) {
    for (const triggers of [false, true]) {
      const server = await serve(kind, `triggers_${run}_${triggers}`);
      try {
        if (triggers) await addTriggers(server.url);
        const rate = await ingestInteractions(server.url, interactionBodies(Date.now()));
        (triggers ? withTriggers : without).push(rate);
        if (triggers) {
          const rates = await api(server.url, 'GET', '/api/v1/surveys/response-rates');
          invitations = rates.total.invited;
        }
        console.error(
          `  triggers ${kind} run ${run + 1} ${triggers ? 'with 20' : 'without'}: ${fmt(rate)} interactions/s`,
        );
      } finally {
        await server.stop();
      }
    }
  }
  const off = median(without);
  const on = median(withTriggers);
  const change = (100 * (on - off)) / off;
  log(
    `| HTTP ingestion of ${fmt(interactions)} interactions (1,000/request, 4 in flight) with 20 active triggers (${fmt(invitations)} invitations scheduled) vs none | ${kind} | ${fmt(on)} vs ${fmt(off)} interactions/s (${change >= 0 ? '+' : ''}${fmt(change, 1)}%) | ≥ −10% | ${change >= -10 ? 'met' : 'NOT met'} |`,
  );
};

await withBenchDatabases(kinds, async (url) => {
  serverUrl = url;
  if (only.has('sizes')) await benchSizes();
  for (const kind of kinds) {
    if (only.has('render')) await benchRender(kind);
    if (only.has('triggers')) await benchTriggers(kind);
  }
});
save();
