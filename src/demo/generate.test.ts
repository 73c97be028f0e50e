import { describe, expect, test } from 'vitest';
import { LIFECYCLE_STAGES, type RecordType } from '../domain/vocabulary.js';
import { validateRecord } from '../ingest/validate.js';
import { type DemoData, generateDemo, PLANTED } from './generate.js';

const DAY = 86_400_000;
// A fixed anchor with a time of day: the data set's year ends on that day (UTC).
const ANCHOR = new Date('2026-06-30T15:45:00Z');
const ANCHOR_DAY = Date.UTC(2026, 5, 30);
const YEAR_START = ANCHOR_DAY - 365 * DAY;

let cached: DemoData | undefined;
/** The default-size data set (3,000 customers, default seed), generated once for this file. */
const demo = (): DemoData => {
  cached ??= generateDemo({ anchor: ANCHOR });
  return cached;
};

const time = (iso: string) => new Date(iso).getTime();
const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

const group = <T>(items: readonly T[], key: (item: T) => string | null) => {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    if (k === null) continue;
    const list = groups.get(k) ?? [];
    list.push(item);
    groups.set(k, list);
  }
  return groups;
};

describe('reproducibility', () => {
  test('the same seed gives identical data', () => {
    const a = generateDemo({ customers: 300, seed: 42, anchor: ANCHOR });
    const b = generateDemo({ customers: 300, seed: 42, anchor: ANCHOR });
    expect(b).toEqual(a);
    expect(a.customers).toHaveLength(300);
  });

  test('the default seed is fixed too', () => {
    expect(generateDemo({ customers: 100, anchor: ANCHOR })).toEqual(
      generateDemo({ customers: 100, anchor: ANCHOR }),
    );
  });

  test('another seed gives different data', () => {
    const a = generateDemo({ customers: 300, seed: 42, anchor: ANCHOR });
    const b = generateDemo({ customers: 300, seed: 43, anchor: ANCHOR });
    expect(b).not.toEqual(a);
    const profile = (data: DemoData) =>
      data.customers.map((c) => `${c.segment}/${c.lifecycleStage}/${c.personalityType}/${c.value}`);
    expect(profile(b)).not.toEqual(profile(a));
  });

  test('the time of day of the anchor does not matter, only its UTC date', () => {
    const morning = generateDemo({ customers: 50, seed: 7, anchor: new Date('2026-06-30T00:00:00Z') });
    const evening = generateDemo({ customers: 50, seed: 7, anchor: new Date('2026-06-30T23:59:59Z') });
    expect(evening).toEqual(morning);
  });

  test('the number of customers follows the option', () => {
    expect(generateDemo({ customers: 25, seed: 1, anchor: ANCHOR }).customers).toHaveLength(25);
  });
});

describe('the default data set', () => {
  test('has 3,000 customers and plenty of interactions, feedback and events', () => {
    const data = demo();
    expect(data.customers).toHaveLength(3000);
    expect(data.interactions.length).toBeGreaterThan(3000);
    expect(data.feedback.length).toBeGreaterThan(1000);
    expect(data.events.length).toBeGreaterThan(3000);
  });

  test.each(['customers', 'interactions', 'feedback', 'events'] as const)(
    'every record of %s passes validateRecord',
    (type: RecordType) => {
      const records: readonly unknown[] = demo()[type];
      const failures = records.flatMap((record) => {
        const result = validateRecord(type, record);
        return result.ok ? [] : [{ record, details: result.details }];
      });
      expect(failures.slice(0, 5)).toEqual([]);
      expect(failures).toHaveLength(0);
    },
  );

  test('external ids are unique per record type', () => {
    const data = demo();
    for (const type of ['customers', 'interactions', 'feedback', 'events'] as const) {
      const ids = data[type].map((r) => r.externalId);
      expect(new Set(ids).size, type).toBe(ids.length);
    }
  });

  test('every reference points at a record of the data set, of the same customer', () => {
    const data = demo();
    const customers = new Set(data.customers.map((c) => c.externalId));
    const interactions = new Map(data.interactions.map((i) => [i.externalId, i]));
    const broken: string[] = [];
    for (const i of data.interactions) if (!customers.has(i.customerId)) broken.push(i.externalId);
    for (const e of data.events) if (!customers.has(e.customerId)) broken.push(e.externalId);
    for (const f of data.feedback) {
      if (f.customerId == null || !customers.has(f.customerId)) broken.push(f.externalId);
      if (f.interactionId == null) continue;
      const interaction = interactions.get(f.interactionId);
      if (
        interaction === undefined ||
        interaction.customerId !== f.customerId ||
        interaction.touchpoint !== f.touchpoint ||
        time(f.occurredAt) < time(interaction.occurredAt)
      ) {
        broken.push(f.externalId);
      }
    }
    expect(broken).toEqual([]);
  });

  test('all five life-cycle stages and both personality types occur', () => {
    const data = demo();
    expect(new Set(data.customers.map((c) => c.lifecycleStage))).toEqual(new Set(LIFECYCLE_STAGES));
    const personalities = new Set(data.customers.map((c) => c.personalityType));
    expect(personalities.has('prompt')).toBe(true);
    expect(personalities.has('relationship')).toBe(true);
  });

  test('interactions come on phone, ivr, email, chat, web and store', () => {
    const channels = new Set(demo().interactions.map((i) => i.channel));
    for (const channel of ['phone', 'ivr', 'email', 'chat', 'web', 'store'] as const) {
      expect(channels.has(channel), channel).toBe(true);
    }
  });

  test('interactions cover at least 10 touchpoints', () => {
    const touchpoints = new Set(demo().interactions.map((i) => i.touchpoint));
    expect(touchpoints.size).toBeGreaterThanOrEqual(10);
    expect(touchpoints.has(PLANTED.brokenCell.touchpoint)).toBe(true);
  });

  test('interactions span about a year ending at the anchor date', () => {
    const times = demo().interactions.map((i) => time(i.occurredAt));
    const first = Math.min(...times);
    const last = Math.max(...times);
    expect(first).toBeGreaterThanOrEqual(YEAR_START);
    expect(first).toBeLessThan(YEAR_START + 7 * DAY);
    expect(last).toBeLessThan(ANCHOR_DAY + DAY);
    expect(last).toBeGreaterThan(ANCHOR_DAY - 2 * DAY);
    expect(last - first).toBeGreaterThan(355 * DAY);
  });

  test('no feedback or event lies before the year or after the anchor date', () => {
    const data = demo();
    const outside = [...data.feedback, ...data.events].filter(
      ({ occurredAt }) => time(occurredAt) < YEAR_START || time(occurredAt) >= ANCHOR_DAY + DAY,
    );
    expect(outside).toEqual([]);
  });

  test('feedback includes surveys, complaints, reviews and comments', () => {
    const feedback = demo().feedback;
    const bySource = group(feedback, (f) => f.source);
    expect(bySource.get('survey')?.length).toBeGreaterThan(100);
    expect(bySource.get('complaint')?.length).toBeGreaterThan(0);
    expect(bySource.get('review')?.length).toBeGreaterThan(0);
    const comments = feedback.filter((f) => typeof f.text === 'string' && f.text.trim() !== '');
    expect(comments.length).toBeGreaterThan(100);
    expect(bySource.get('survey')?.some((f) => f.text != null)).toBe(true);
    expect(bySource.get('complaint')?.every((f) => f.text != null && f.text !== '')).toBe(true);
    expect(bySource.get('review')?.every((f) => f.text != null && f.text !== '')).toBe(true);
  });

  test('feedback carries NPS, CSAT and CES answers', () => {
    const feedback = demo().feedback;
    expect(feedback.filter((f) => f.nps != null).length).toBeGreaterThan(500);
    expect(feedback.filter((f) => f.csat != null).length).toBeGreaterThan(500);
    expect(feedback.filter((f) => f.ces != null).length).toBeGreaterThan(500);
  });
});

describe('planted effects, recovered with plain arithmetic', () => {
  test('mean NPS falls as the linked interaction has 0 → 1 → 2+ transfers', () => {
    const data = demo();
    const transfers = new Map(data.interactions.map((i) => [i.externalId, i.transfers ?? 0]));
    const byTransfers = group(
      data.feedback.filter((f) => f.nps != null && f.interactionId != null),
      (f) => {
        const t = transfers.get(f.interactionId as string);
        if (t === undefined) return null;
        return t >= 2 ? '2+' : String(t);
      },
    );
    const npsMean = (key: string) => {
      const scores = (byTransfers.get(key) ?? []).map((f) => f.nps as number);
      expect(scores.length, `responses with ${key} transfers`).toBeGreaterThanOrEqual(30);
      return mean(scores);
    };
    const none = npsMean('0');
    const one = npsMean('1');
    const more = npsMean('2+');
    // Each transfer costs at least 1.3 points on the latent 0–10 scale; rounding and clamping
    // soften that, but not to under half a point per step.
    expect(none - one).toBeGreaterThan(0.5);
    expect(one - more).toBeGreaterThan(0.5);
  });

  const cellMeans = (measure: 'nps' | 'csat') => {
    const data = demo();
    const segments = new Map(data.customers.map((c) => [c.externalId, c.segment]));
    const cells = group(
      data.feedback.filter((f) => f[measure] != null && f.touchpoint != null),
      (f) => `${f.touchpoint} × ${segments.get(f.customerId as string)}`,
    );
    return [...cells]
      .filter(([, responses]) => responses.length >= 30)
      .map(([cell, responses]) => ({
        cell,
        n: responses.length,
        mean: mean(responses.map((f) => f[measure] as number)),
      }))
      .sort((a, b) => a.mean - b.mean);
  };

  test.each(['nps', 'csat'] as const)(
    'billing × small_business has the lowest mean %s of all cells',
    (measure) => {
      const broken = `${PLANTED.brokenCell.touchpoint} × ${PLANTED.brokenCell.segment}`;
      expect(broken).toBe('billing × small_business');
      const cells = cellMeans(measure);
      expect(cells.length).toBeGreaterThan(10);
      expect(cells.map((c) => c.cell)).toContain(broken);
      expect(cells[0]?.cell).toBe(broken);
      // and clearly so: the planted −3.5 points leave a gap to the next-worst cell
      const gap = (cells[1]?.mean ?? 0) - (cells[0]?.mean ?? 0);
      expect(gap).toBeGreaterThan(measure === 'nps' ? 1 : 0.4);
    },
  );

  test('customers whose mean NPS is 6 or less churn clearly more than those at 9 or more', () => {
    const data = demo();
    const churned = new Set(data.events.filter((e) => e.type === 'churn').map((e) => e.customerId));
    const scores = group(
      data.feedback.filter((f) => f.nps != null),
      (f) => f.customerId ?? null,
    );
    const detractors: string[] = [];
    const promoters: string[] = [];
    for (const [customerId, responses] of scores) {
      const m = mean(responses.map((f) => f.nps as number));
      if (m <= 6) detractors.push(customerId);
      else if (m >= 9) promoters.push(customerId);
    }
    expect(detractors.length).toBeGreaterThanOrEqual(50);
    expect(promoters.length).toBeGreaterThanOrEqual(50);
    const rate = (ids: string[]) => ids.filter((id) => churned.has(id)).length / ids.length;
    const low = rate(detractors);
    const high = rate(promoters);
    // planted: 30% of detractors churn, 3% of promoters (new customers excepted)
    expect(low).toBeGreaterThan(high + 0.1);
    expect(low).toBeGreaterThan(3 * high);
  });

  test('every churned customer cancelled first', () => {
    const data = demo();
    const byCustomer = group(data.events, (e) => e.customerId);
    const churns = data.events.filter((e) => e.type === 'churn');
    expect(churns.length).toBeGreaterThan(0);
    const withoutCancellation = churns.filter((churn) => {
      const cancellation = byCustomer.get(churn.customerId)?.find((e) => e.type === 'cancellation');
      return cancellation === undefined || time(cancellation.occurredAt) > time(churn.occurredAt);
    });
    expect(withoutCancellation).toEqual([]);
  });
});
