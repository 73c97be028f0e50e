import type { Channel, LifecycleStage, PersonalityType } from '../domain/vocabulary.js';
import type { CustomerInput, EventInput, FeedbackInput, InteractionInput } from '../ingest/schemas.js';

/**
 * A realistic, reproducible demo data set with planted effects (documented in docs/demo-data.md),
 * so that analytics, alerts and predictions can be checked to recover them:
 *
 * 1. Every transfer lowers the experience (−1.3 points on the 0–10 scale per transfer).
 * 2. Long waits lower it (−1 point per 5 minutes over 2 minutes).
 * 3. One touchpoint is broken for one segment: billing for small-business customers (−3.5).
 * 4. Detractors churn more: churn probability 30% for detractors, 10% passives, 3% promoters.
 * 5. Unresolved contacts (−1.5) and repeat contacts within 7 days (−1) hurt; relationship-type
 *    customers mind transfers more (an extra −0.7 per transfer) and prompt types mind long handling.
 */

export interface DemoData {
  customers: CustomerInput[];
  interactions: InteractionInput[];
  feedback: FeedbackInput[];
  events: EventInput[];
}

export interface DemoOptions {
  /** Number of customers (default 3,000). */
  customers?: number;
  seed?: number;
  /** The data runs up to the start of this day, UTC (default: today). */
  anchor?: Date;
}

export const PLANTED = {
  perTransfer: -1.3,
  relationshipPerTransferExtra: -0.7,
  perFiveMinutesWaitOverTwo: -1,
  brokenCell: { touchpoint: 'billing', segment: 'small_business', effect: -3.5 },
  unresolved: -1.5,
  repeatContact: -1,
  churnProbability: { detractor: 0.3, passive: 0.1, promoter: 0.03 },
} as const;

/** mulberry32: a small, fast, seedable generator; the same seed gives the same data set. */
export const generator = (seed: number) => {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const weighted = <T>(items: readonly (readonly [T, number])[]): T => {
    const total = items.reduce((sum, [, w]) => sum + w, 0);
    let r = next() * total;
    for (const [item, w] of items) {
      r -= w;
      if (r <= 0) return item;
    }
    return (items.at(-1) as readonly [T, number])[0];
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  const poisson = (mean: number) => {
    const limit = Math.exp(-mean);
    let k = 0;
    for (let p = next(); p > limit; p *= next()) k++;
    return k;
  };
  return { next, pick, weighted, normal, poisson, chance: (p: number) => next() < p };
};

const SEGMENTS = [
  ['consumer', 0.6],
  ['small_business', 0.3],
  ['enterprise', 0.1],
] as const;
const STAGES: readonly (readonly [LifecycleStage, number])[] = [
  ['new', 0.15],
  ['current', 0.5],
  ['advocate', 0.12],
  ['ending', 0.1],
  ['renewing', 0.13],
];
const PERSONALITIES: readonly (readonly [PersonalityType, number])[] = [
  ['prompt', 0.45],
  ['relationship', 0.4],
  ['unknown', 0.15],
];

/** Touchpoints with the channels they are reached on, their team and their baseline score. */
const TOUCHPOINTS: Record<string, { channels: Channel[]; team: string; base: number }> = {
  onboarding: { channels: ['phone', 'email', 'web'], team: 'Onboarding', base: 8.2 },
  billing: { channels: ['phone', 'ivr', 'email'], team: 'Billing', base: 7.6 },
  payment: { channels: ['ivr', 'web', 'app'], team: 'Billing', base: 8.0 },
  technical_support: { channels: ['phone', 'chat', 'email'], team: 'Technical support', base: 7.2 },
  order_status: { channels: ['chat', 'web', 'email', 'app'], team: 'Customer service', base: 8.1 },
  delivery: { channels: ['phone', 'sms', 'web'], team: 'Logistics', base: 7.7 },
  returns: { channels: ['store', 'phone', 'web'], team: 'Customer service', base: 7.4 },
  sales: { channels: ['store', 'chat', 'phone'], team: 'Sales', base: 8.4 },
  cancellation: { channels: ['phone', 'email'], team: 'Retention', base: 6.6 },
  store_visit: { channels: ['store'], team: 'Store staff', base: 8.3 },
};
const TOUCHPOINT_NAMES = Object.keys(TOUCHPOINTS);

/** The team owning each touchpoint of the demo data (interactions carry these team names). */
export const DEMO_TOUCHPOINT_TEAMS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(TOUCHPOINTS).map(([touchpoint, { team }]) => [touchpoint, team]),
);
const ASSISTED: ReadonlySet<Channel> = new Set(['phone', 'chat', 'email', 'store', 'video']);

const FIRST = [
  'Anna',
  'Ben',
  'Chloé',
  'David',
  'Elif',
  'Farid',
  'Greta',
  'Hugo',
  'Ines',
  'Jonas',
  'Kai',
  'Lena',
  'Mateo',
  'Nora',
  'Omar',
  'Priya',
  'Quinn',
  'Rosa',
  'Sami',
  'Tara',
  'Umar',
  'Vera',
  'Wen',
  'Yusuf',
  'Zoe',
];
const LAST = [
  'Adams',
  'Berg',
  'Costa',
  'Dubois',
  'Eriksen',
  'Fischer',
  'García',
  'Hansen',
  'Ivanova',
  'Jensen',
  'Kowalski',
  'Lopez',
  'Müller',
  'Nowak',
  'Okafor',
  'Petit',
  'Rossi',
  'Schmidt',
  'Tanaka',
  'Weber',
];
const LOCALES = ['en-GB', 'en-US', 'de-DE', 'fr-FR', 'es-ES', 'nl-NL'];

const COMMENTS = {
  transfers: [
    'I was transferred {n} times before anyone could help.',
    'Passed from one department to the next.',
    'Bounced between teams, had to repeat my story every time.',
  ],
  wait: ['Waited {m} minutes on hold.', 'The queue took forever.', 'Far too long to get through.'],
  unresolved: [
    'My problem is still not solved.',
    'Nobody fixed it, I will have to call again.',
    'Still waiting for a solution.',
  ],
  billing: [
    'The invoice was wrong again.',
    'Billing for our business account is a mess.',
    'Charged twice and nobody could explain why.',
  ],
  repeat: ['This is the third time I contact you about this.', 'I already called about this last week.'],
  good: [
    'Quick and friendly, sorted on the first call.',
    'Very helpful agent, thank you!',
    'Easy and fast, exactly what I needed.',
    'Great service, I will recommend you.',
  ],
  neutral: ['It was okay.', 'Fine, nothing special.', 'Got what I needed eventually.'],
  bad: ['Very disappointing experience.', 'Not happy with the service at all.', 'Thinking about cancelling.'],
};

const dayMs = 86_400_000;
const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

/**
 * Generates the demo data set.
 *
 * @example const { customers, feedback } = generateDemo({ customers: 500, seed: 7 });
 */
export const generateDemo = (options: DemoOptions = {}): DemoData => {
  const count = options.customers ?? 3000;
  const rnd = generator(options.seed ?? 20261122);
  const today = options.anchor ?? new Date();
  const end = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
  const start = end - 365 * dayMs;
  const agents = new Map<string, string[]>();
  for (const { team } of Object.values(TOUCHPOINTS)) {
    if (!agents.has(team))
      agents.set(
        team,
        Array.from({ length: 4 }, () => `${rnd.pick(FIRST)} ${rnd.pick(LAST)[0]}.`),
      );
  }

  const data: DemoData = { customers: [], interactions: [], feedback: [], events: [] };
  const pad = (n: number, width: number) => String(n).padStart(width, '0');
  let interactionNo = 0;
  let feedbackNo = 0;
  let eventNo = 0;

  for (let c = 1; c <= count; c++) {
    const id = `demo-c-${pad(c, 5)}`;
    const segment = rnd.weighted(SEGMENTS);
    const stage = rnd.weighted(STAGES);
    const personality = rnd.weighted(PERSONALITIES);
    const first = rnd.pick(FIRST);
    const last = rnd.pick(LAST);
    const value = Math.round(
      segment === 'enterprise'
        ? 20_000 + rnd.next() * 80_000
        : segment === 'small_business'
          ? 1_500 + rnd.next() * 8_000
          : 100 + rnd.next() * 900,
    );
    data.customers.push({
      externalId: id,
      name: `${first} ${last}`,
      email: `${first}.${last}.${c}@example.com`
        .toLowerCase()
        .normalize('NFD')
        .replace(/[^\x21-\x7e]/g, ''),
      phone: `+44 20 7946 ${pad(c % 10_000, 4)}`,
      locale: rnd.pick(LOCALES),
      segment,
      lifecycleStage: stage,
      personalityType: personality,
      value,
      attributes: {
        plan: rnd.pick(['basic', 'plus', 'premium']),
        region: rnd.pick(['north', 'south', 'east', 'west']),
      },
    });

    // New customers arrived in the last 60 days; everyone else has a year of history.
    const since = stage === 'new' ? end - 60 * dayMs : start;
    const contacts = Math.max(1, rnd.poisson(personality === 'relationship' ? 10 : 7));
    const times = Array.from({ length: contacts }, () => since + rnd.next() * (end - since)).sort(
      (a, b) => a - b,
    );
    const npsScores: number[] = [];
    const lastContactAt = new Map<string, number>();

    for (let k = 0; k < times.length; k++) {
      let at = times[k] as number;
      const touchpoint =
        stage === 'new' && k === 0
          ? 'onboarding'
          : stage === 'ending' && rnd.chance(0.3)
            ? 'cancellation'
            : rnd.pick(TOUCHPOINT_NAMES);
      const spec = TOUCHPOINTS[touchpoint] as (typeof TOUCHPOINTS)[string];
      const channel =
        personality === 'prompt' && rnd.chance(0.5)
          ? (spec.channels.find((ch) => !ASSISTED.has(ch)) ?? rnd.pick(spec.channels))
          : rnd.pick(spec.channels);
      const assisted = ASSISTED.has(channel);
      const transfers =
        channel === 'phone' || channel === 'chat'
          ? rnd.weighted([
              [0, 0.68],
              [1, 0.2],
              [2, 0.08],
              [3, 0.04],
            ] as const)
          : 0;
      const waitSeconds =
        channel === 'phone' || channel === 'chat' || channel === 'ivr'
          ? Math.round(Math.exp(4.3 + rnd.normal() * 0.9))
          : null;
      const handleSeconds = assisted ? Math.round(120 + Math.exp(5.2 + rnd.normal() * 0.6)) : null;
      const brokenCell =
        touchpoint === PLANTED.brokenCell.touchpoint && segment === PLANTED.brokenCell.segment;
      const resolved = rnd.chance(brokenCell ? 0.55 : transfers >= 2 ? 0.6 : 0.85);
      const previous = lastContactAt.get(touchpoint);
      const repeat = previous !== undefined && at - previous < 7 * dayMs;
      lastContactAt.set(touchpoint, at);
      const team = spec.team;
      const agent = assisted ? rnd.pick(agents.get(team) as string[]) : null;

      interactionNo++;
      const interactionId = `demo-i-${pad(interactionNo, 6)}`;
      data.interactions.push({
        externalId: interactionId,
        customerId: id,
        channel,
        touchpoint,
        occurredAt: new Date(at).toISOString(),
        agent,
        team: assisted ? team : null,
        waitSeconds,
        handleSeconds,
        transfers,
        resolved,
        outcome: resolved ? 'resolved' : rnd.pick(['escalated', 'callback', 'open']),
      });

      // The latent experience on the 0–10 scale, with the planted effects.
      let score = spec.base + rnd.normal() * 1.3;
      score +=
        transfers *
        (PLANTED.perTransfer + (personality === 'relationship' ? PLANTED.relationshipPerTransferExtra : 0));
      if (waitSeconds !== null)
        score += (Math.max(0, waitSeconds - 120) / 300) * PLANTED.perFiveMinutesWaitOverTwo;
      if (brokenCell) score += PLANTED.brokenCell.effect;
      if (!resolved) score += PLANTED.unresolved;
      if (repeat) score += PLANTED.repeatContact;
      if (personality === 'prompt' && handleSeconds !== null && handleSeconds > 900) score -= 1;
      if (stage === 'advocate') score += 0.8;
      if (stage === 'ending') score -= 0.8;
      const nps = clamp(Math.round(score), 0, 10);

      // A comment that says why, the way customers write it.
      const reasons: string[] = [];
      if (transfers >= 2) reasons.push(rnd.pick(COMMENTS.transfers).replace('{n}', String(transfers)));
      if (waitSeconds !== null && waitSeconds > 600)
        reasons.push(rnd.pick(COMMENTS.wait).replace('{m}', String(Math.round(waitSeconds / 60))));
      if (brokenCell && nps <= 6) reasons.push(rnd.pick(COMMENTS.billing));
      if (!resolved) reasons.push(rnd.pick(COMMENTS.unresolved));
      if (repeat) reasons.push(rnd.pick(COMMENTS.repeat));
      const comment =
        reasons.length > 0 && nps <= 6
          ? reasons.join(' ')
          : nps >= 9
            ? rnd.pick(COMMENTS.good)
            : nps <= 4
              ? rnd.pick(COMMENTS.bad)
              : rnd.pick(COMMENTS.neutral);

      if (rnd.chance(0.38)) {
        feedbackNo++;
        at += (assisted ? 0.02 : 0.1) * dayMs * (1 + rnd.next());
        const csat = clamp(Math.round(1 + score * 0.42 + rnd.normal() * 0.4), 1, 5);
        const ces = clamp(Math.round(1 + score * 0.6 + rnd.normal() * 0.6), 1, 7);
        const asksNps = rnd.chance(0.6);
        if (asksNps) npsScores.push(nps);
        data.feedback.push({
          externalId: `demo-f-${pad(feedbackNo, 6)}`,
          customerId: id,
          interactionId,
          source: 'survey',
          channel,
          touchpoint,
          occurredAt: new Date(Math.min(at, end)).toISOString(),
          nps: asksNps ? nps : null,
          csat,
          ces,
          answers: { agentKnowledge: clamp(Math.round(csat + rnd.normal() * 0.5), 1, 5) },
          text: rnd.chance(0.55) ? comment : null,
        });
      } else if (!resolved && nps <= 3 && rnd.chance(0.25)) {
        feedbackNo++;
        data.feedback.push({
          externalId: `demo-f-${pad(feedbackNo, 6)}`,
          customerId: id,
          interactionId,
          source: 'complaint',
          channel: 'email',
          touchpoint,
          occurredAt: new Date(Math.min(at + dayMs * rnd.next(), end)).toISOString(),
          text: `Formal complaint: ${comment}`,
        });
      } else if ((channel === 'store' || channel === 'web') && rnd.chance(0.05)) {
        feedbackNo++;
        data.feedback.push({
          externalId: `demo-f-${pad(feedbackNo, 6)}`,
          customerId: id,
          source: 'review',
          channel: 'web',
          touchpoint,
          occurredAt: new Date(Math.min(at + dayMs * 2 * rnd.next(), end)).toISOString(),
          csat: clamp(Math.round(1 + score * 0.42), 1, 5),
          text: comment,
        });
      }
    }

    // A relationship NPS survey for a third of the customers, some time in the year.
    if (rnd.chance(0.33)) {
      const recent = npsScores.length > 0 ? npsScores.reduce((a, b) => a + b, 0) / npsScores.length : 7.5;
      const nps = clamp(Math.round(recent + rnd.normal()), 0, 10);
      npsScores.push(nps);
      feedbackNo++;
      data.feedback.push({
        externalId: `demo-f-${pad(feedbackNo, 6)}`,
        customerId: id,
        source: 'survey',
        channel: 'email',
        touchpoint: 'relationship',
        occurredAt: new Date(since + rnd.next() * (end - since)).toISOString(),
        nps,
        text: rnd.chance(0.4)
          ? nps >= 9
            ? rnd.pick(COMMENTS.good)
            : nps <= 6
              ? rnd.pick(COMMENTS.bad)
              : rnd.pick(COMMENTS.neutral)
          : null,
      });
    }

    // Business events: purchases, renewals, and churn that follows bad experiences.
    const amountScale = segment === 'enterprise' ? 5000 : segment === 'small_business' ? 400 : 40;
    const purchases = 1 + rnd.poisson(2);
    for (let p = 0; p < purchases; p++) {
      eventNo++;
      data.events.push({
        externalId: `demo-e-${pad(eventNo, 6)}`,
        customerId: id,
        type: 'purchase',
        occurredAt: new Date(since + rnd.next() * (end - since)).toISOString(),
        amount: Math.round(amountScale * (0.5 + rnd.next() * 2) * 100) / 100,
      });
    }
    const meanNps = npsScores.length > 0 ? npsScores.reduce((a, b) => a + b, 0) / npsScores.length : null;
    const group =
      meanNps === null ? 'passive' : meanNps <= 6 ? 'detractor' : meanNps < 9 ? 'passive' : 'promoter';
    const lastTime = (times.at(-1) as number) + dayMs;
    if (stage !== 'new' && rnd.chance(PLANTED.churnProbability[group])) {
      const at = Math.min(lastTime + rnd.next() * 20 * dayMs, end);
      eventNo++;
      data.events.push({
        externalId: `demo-e-${pad(eventNo, 6)}`,
        customerId: id,
        type: 'cancellation',
        occurredAt: new Date(at).toISOString(),
        amount: null,
      });
      eventNo++;
      data.events.push({
        externalId: `demo-e-${pad(eventNo, 6)}`,
        customerId: id,
        type: 'churn',
        occurredAt: new Date(Math.min(at + 14 * dayMs, end)).toISOString(),
        amount: -value,
        attributes: {
          reason:
            group === 'detractor'
              ? rnd.pick(['service', 'price', 'billing errors'])
              : rnd.pick(['price', 'moved', 'no longer needed']),
        },
      });
    } else if (stage === 'renewing' || stage === 'current' || stage === 'advocate') {
      eventNo++;
      data.events.push({
        externalId: `demo-e-${pad(eventNo, 6)}`,
        customerId: id,
        type: 'renewal',
        occurredAt: new Date(start + rnd.next() * (end - start)).toISOString(),
        amount: value,
      });
    }
  }
  return data;
};
