import type { InjectOptions } from 'fastify';
import { beforeAll, expect, test } from 'vitest';
import type { Db } from '../src/db/index.js';
import { generator } from '../src/demo/generate.js';
import type { App } from '../src/server/app.js';
import { scheduleRelationshipSurveys, type TriggerOut } from '../src/surveys/triggers.js';
import { describeEachDatabase } from './helpers/databases.js';
import { auth, useApp } from './helpers/http.js';
import { createTestWorkspace, type TestWorkspace } from './helpers/workspace.js';

/**
 * Survey triggers on both databases: which ingested interactions fire which interaction trigger
 * (the database trigger on the interaction table), idempotence, hash sampling, and the periodic
 * relationship triggers.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH';

interface InvitationItem {
  id: string;
  surveyId: number;
  triggerId: number | null;
  customerId: string | null;
  interactionId: string | null;
  channel: string;
  touchpoint: string | null;
  status: string;
  dueAt: string;
}

/** One test's own workspace, driven through the HTTP API. */
const workspaceApi = async (app: () => App, db: Db) => {
  const ws: TestWorkspace = await createTestWorkspace(db);
  const headers = auth(ws.keys.admin);
  const call = async <T = unknown>(method: Method, url: string, payload?: object, expected = 200) => {
    const options: InjectOptions = { method, url, headers };
    if (payload !== undefined) options.payload = payload as InjectOptions['payload'];
    const res = await app().inject(options);
    expect(res.statusCode, `${method} ${url}: ${res.body.slice(0, 800)}`).toBe(expected);
    return res.json() as T;
  };
  await call('PUT', '/api/v1/survey-settings', { quietHours: null });
  const api = {
    ws,
    call,
    survey: async (template = 'transactional-nps') =>
      (await call<{ id: number }>('POST', '/api/v1/surveys', { template }, 201)).id,
    trigger: (surveyId: number, input: object) =>
      call<TriggerOut>('POST', `/api/v1/surveys/${surveyId}/triggers`, input, 201),
    pause: (surveyId: number) => call('PATCH', `/api/v1/surveys/${surveyId}`, { status: 'paused' }),
    customers: (records: object[]) => call('POST', '/api/v1/customers', records),
    interactions: (records: object[]) =>
      call<{ created: number; updated: number; unchanged: number }>('POST', '/api/v1/interactions', records),
    /** The API's view of the workspace's invitations (all pages). */
    listed: async (query = '') => {
      const items: InvitationItem[] = [];
      let cursor: string | null = null;
      do {
        const page: { items: InvitationItem[]; nextCursor: string | null } = await call(
          'GET',
          `/api/v1/invitations?limit=500${query}${cursor ? `&cursor=${cursor}` : ''}`,
        );
        items.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor);
      return items;
    },
    /** The invitation rows of the workspace, with the external id of their interaction. */
    rows: () =>
      db
        .selectFrom('invitation as i')
        .leftJoin('interaction as x', 'x.id', 'i.interaction_id')
        .leftJoin('customer as c', 'c.id', 'i.customer_id')
        .selectAll('i')
        .select(['x.external_id as interaction_external_id', 'c.external_id as customer_external_id'])
        .where('i.workspace_id', '=', ws.id)
        .orderBy('i.id')
        .execute(),
  };
  return api;
};

/** The demo data's seeded generator, so a failing batch can be reproduced. */
const prng = (seed: number) => {
  const { next, pick } = generator(seed);
  const subset = <T>(values: readonly T[]): T[] => {
    const chosen = values.filter(() => next() < 0.5);
    return chosen.length > 0 ? chosen : [pick(values)];
  };
  return { next, pick, subset };
};

describeEachDatabase('survey triggers', (database) => {
  const app = useApp(database);
  let db: Db;
  beforeAll(() => {
    db = database().db;
  });

  test('an interaction trigger fires only for interactions matching every field of its match', async () => {
    const api = await workspaceApi(app, db);
    const survey = await api.survey();
    const trigger = await api.trigger(survey, {
      channel: 'email',
      match: {
        channel: ['phone', 'chat'],
        touchpoint: ['billing', 'moving'],
        outcome: 'refund',
        segment: 'smb',
        lifecycleStage: ['current', 'renewing'],
        personalityType: 'prompt',
        team: 'care',
        resolved: false,
      },
      delaySeconds: 600,
    });
    expect(trigger).toMatchObject({
      kind: 'interaction',
      active: true,
      delaySeconds: 600,
      samplePercent: 100,
    });

    // segment, lifecycleStage and personalityType are the customer's at the time of the contact.
    const base = { segment: 'smb', lifecycleStage: 'current', personalityType: 'prompt' };
    await api.customers([
      { externalId: 'C-base', email: 'base@example.com', ...base },
      { externalId: 'C-segment', ...base, segment: 'enterprise' },
      { externalId: 'C-no-segment', ...base, segment: null },
      { externalId: 'C-stage', ...base, lifecycleStage: 'new' },
      { externalId: 'C-no-stage', ...base, lifecycleStage: null },
      { externalId: 'C-personality', ...base, personalityType: 'relationship' },
    ]);

    const started = Date.now();
    const occurred = new Date(started - 5 * MINUTE);
    const old = new Date(started - HOUR); // + 600 s is past: due at once
    const matching = {
      customerId: 'C-base',
      channel: 'phone',
      touchpoint: 'billing',
      outcome: 'refund',
      team: 'care',
      resolved: false,
      occurredAt: occurred.toISOString(),
    };
    const differing: Record<string, object> = {
      'X-channel': { channel: 'email' },
      'X-touchpoint': { touchpoint: 'sales' },
      'X-no-touchpoint': { touchpoint: null },
      'X-outcome': { outcome: 'fixed' },
      'X-no-outcome': { outcome: null },
      'X-segment': { customerId: 'C-segment' },
      'X-no-segment': { customerId: 'C-no-segment' },
      'X-stage': { customerId: 'C-stage' },
      'X-no-stage': { customerId: 'C-no-stage' },
      'X-personality': { customerId: 'C-personality' },
      'X-personality-unknown': { customerId: 'C-unknown-stub' }, // created by this batch: 'unknown'
      'X-team': { team: 'sales' },
      'X-no-team': { team: null },
      'X-resolved': { resolved: true },
      'X-no-resolved': { resolved: null },
    };
    const summary = await api.interactions([
      { externalId: 'I-match', ...matching },
      {
        externalId: 'I-match-other-values',
        ...matching,
        channel: 'chat',
        touchpoint: 'moving',
        occurredAt: old.toISOString(),
      },
      ...Object.entries(differing).map(([externalId, change]) => ({ externalId, ...matching, ...change })),
    ]);
    const finished = Date.now();
    expect(summary.created).toBe(2 + Object.keys(differing).length);

    const listed = await api.listed();
    expect(listed.map((i) => i.interactionId).sort()).toEqual(['I-match', 'I-match-other-values']);
    for (const item of listed) {
      expect(item).toMatchObject({
        surveyId: survey,
        triggerId: trigger.id,
        customerId: 'C-base',
        channel: 'email',
        status: 'scheduled',
      });
    }
    const rows = await api.rows();
    const byInteraction = new Map(rows.map((row) => [row.interaction_external_id, row]));
    const first = byInteraction.get('I-match');
    expect(first).toMatchObject({ touchpoint: 'billing', contact_channel: 'phone', status: 'scheduled' });
    expect(first?.subject_key).toBe(`interaction:${first?.interaction_id}`);
    // Due delaySeconds after the interaction ...
    expect(first?.due_at.getTime()).toBe(occurred.getTime() + 600_000);
    // ... or at once when that is already past.
    const second = byInteraction.get('I-match-other-values');
    expect(second).toMatchObject({ touchpoint: 'moving', contact_channel: 'chat' });
    expect(second?.due_at.getTime()).toBeGreaterThanOrEqual(started - 2000);
    expect(second?.due_at.getTime()).toBeLessThanOrEqual(finished + 2000);
  });

  test('old interactions, paused surveys, inactive triggers and other workspaces fire nothing', async () => {
    const api = await workspaceApi(app, db);
    const other = await workspaceApi(app, db);
    const survey = await api.survey();
    const recent = await api.trigger(survey, {
      channel: 'email',
      maxAgeHours: 2,
      match: { touchpoint: 'a' },
    });
    const inactive = await api.trigger(survey, {
      channel: 'email',
      active: false,
      match: { touchpoint: 'b' },
    });
    const paused = await api.survey();
    await api.trigger(paused, { channel: 'email', match: { touchpoint: 'c' } });
    await api.pause(paused);
    // The other workspace has a trigger of its own, matching only touchpoint "z".
    const otherSurvey = await other.survey();
    await other.trigger(otherSurvey, { channel: 'email', match: { touchpoint: 'z' } });

    const now = Date.now();
    const at = (ms: number) => new Date(now - ms).toISOString();
    const contact = (externalId: string, touchpoint: string, ageMs: number) => ({
      externalId,
      customerId: 'C-1',
      channel: 'phone',
      touchpoint,
      occurredAt: at(ageMs),
    });
    await api.interactions([
      contact('I-recent', 'a', 30 * MINUTE),
      contact('I-old', 'a', 3 * HOUR),
      contact('I-historical', 'a', 400 * DAY),
      contact('I-inactive', 'b', MINUTE),
      contact('I-paused', 'c', MINUTE),
      contact('I-z', 'z', MINUTE),
    ]);
    // The same external ids in the other workspace: its interactions never fire this workspace's triggers.
    await other.interactions([
      contact('I-recent', 'a', MINUTE),
      contact('I-inactive', 'b', MINUTE),
      contact('I-paused', 'c', MINUTE),
      contact('I-other-z', 'z', MINUTE),
    ]);

    const mine = await api.rows();
    expect(mine.map((row) => [row.trigger_id, row.interaction_external_id])).toEqual([
      [recent.id, 'I-recent'],
    ]);
    const theirs = await other.rows();
    expect(theirs.map((row) => row.interaction_external_id)).toEqual(['I-other-z']);
    const anyForMyTriggers = await db
      .selectFrom('invitation')
      .select(['workspace_id', 'trigger_id'])
      .where('trigger_id', 'in', [recent.id, inactive.id])
      .execute();
    expect(anyForMyTriggers).toEqual([{ workspace_id: api.ws.id, trigger_id: recent.id }]);

    // A trigger switched on later fires for interactions ingested from then on.
    await api.call('PUT', `/api/v1/survey-triggers/${inactive.id}`, {
      channel: 'email',
      active: true,
      match: { touchpoint: 'b' },
    });
    await api.interactions([contact('I-active-now', 'b', MINUTE)]);
    expect((await api.rows()).map((row) => row.interaction_external_id)).toEqual([
      'I-recent',
      'I-active-now',
    ]);
  });

  test('re-sending an interaction never invites twice; an update that makes it match does', async () => {
    const api = await workspaceApi(app, db);
    const survey = await api.survey();
    await api.trigger(survey, { channel: 'email', match: { channel: 'phone', resolved: false } });
    const occurredAt = new Date(Date.now() - 10 * MINUTE).toISOString();
    const record = {
      externalId: 'I-1',
      customerId: 'C-1',
      channel: 'phone',
      touchpoint: 'billing',
      resolved: false,
      occurredAt,
    };
    expect(await api.interactions([record])).toMatchObject({ created: 1 });
    expect(await api.rows()).toHaveLength(1);

    // The same record again (unchanged), then changed in fields the trigger does not look at, then
    // in one it does (still matching): still one invitation.
    expect(await api.interactions([record])).toMatchObject({ unchanged: 1 });
    expect(await api.interactions([{ ...record, agent: 'Bea', waitSeconds: 42 }])).toMatchObject({
      updated: 1,
    });
    expect(
      await api.interactions([{ ...record, agent: 'Bea', waitSeconds: 42, touchpoint: 'moving' }]),
    ).toMatchObject({ updated: 1 });
    // A larger batch takes another write path (more than 200 records): still one.
    const filler = Array.from({ length: 250 }, (_, i) => ({
      ...record,
      externalId: `F-${i}`,
      channel: 'chat',
    }));
    await api.interactions([...filler, { ...record, agent: 'Cem' }]);
    const rows = await api.rows();
    expect(rows.map((row) => row.interaction_external_id)).toEqual(['I-1']);
    expect(rows[0]?.touchpoint).toBe('billing'); // as scheduled; the invitation is not rewritten

    // Not matching at first (chat), then corrected to phone: the UPDATE fires the trigger.
    await api.interactions([{ ...record, externalId: 'I-2', channel: 'chat' }]);
    expect(await api.rows()).toHaveLength(1);
    expect(await api.interactions([{ ...record, externalId: 'I-2' }])).toMatchObject({ updated: 1 });
    expect((await api.rows()).map((row) => row.interaction_external_id)).toEqual(['I-1', 'I-2']);
    // Corrected in a large batch too.
    await api.interactions([
      ...filler.slice(0, 3).map((f) => ({ ...f, channel: 'phone' })),
      ...filler.slice(3),
    ]);
    expect((await api.rows()).map((row) => row.interaction_external_id)).toEqual([
      'I-1',
      'I-2',
      'F-0',
      'F-1',
      'F-2',
    ]);
  });

  test('a batch of 500 interactions against 20 active triggers creates exactly the matching invitations', async () => {
    const api = await workspaceApi(app, db);
    const random = prng(20260315);
    const CHANNELS = ['phone', 'chat', 'email'] as const;
    const TOUCHPOINTS = ['billing', 'moving', 'sales'] as const;
    const OUTCOMES = ['refund', 'fixed'] as const;
    const SEGMENTS = ['smb', 'enterprise'] as const;
    const STAGES = ['new', 'current', 'ending'] as const;
    const PERSONALITIES = ['prompt', 'relationship', 'unknown'] as const;
    const TEAMS = ['care', 'sales'] as const;
    const maybe = <T>(values: readonly T[]): T | null => (random.next() < 0.2 ? null : random.pick(values));

    const customers = Array.from({ length: 30 }, (_, i) => ({
      externalId: `C-${i}`,
      segment: maybe(SEGMENTS),
      lifecycleStage: maybe(STAGES),
      personalityType: random.pick(PERSONALITIES),
    }));
    await api.customers(customers);
    const customerOf = new Map(customers.map((c) => [c.externalId, c]));

    const surveys = [await api.survey(), await api.survey(), await api.survey()];
    const pausedSurvey = surveys[2] as number;
    interface Spec {
      surveyId: number;
      active: boolean;
      delaySeconds: number;
      maxAgeHours: number;
      match: Record<string, string[] | boolean>;
    }
    const specs: (Spec & { id: number })[] = [];
    // 20 active triggers on active surveys, and 4 that must stay silent: 2 inactive, 2 of a paused survey.
    for (let t = 0; t < 24; t++) {
      const match: Record<string, string[] | boolean> = {};
      const lists: [string, readonly string[]][] = [
        ['channel', CHANNELS],
        ['touchpoint', TOUCHPOINTS],
        ['outcome', OUTCOMES],
        ['segment', SEGMENTS],
        ['lifecycleStage', STAGES],
        ['personalityType', PERSONALITIES],
        ['team', TEAMS],
      ];
      for (const [field, values] of lists) if (random.next() < 0.3) match[field] = random.subset(values);
      if (random.next() < 0.3) match.resolved = random.next() < 0.5;
      const spec: Spec = {
        surveyId: t < 22 ? random.pick(surveys.slice(0, 2)) : pausedSurvey,
        active: t < 20 || t >= 22,
        delaySeconds: random.pick([0, 60, 3600]),
        maxAgeHours: random.pick([1, 24, 168]),
        match,
      };
      const created = await api.trigger(spec.surveyId, {
        channel: 'email',
        active: spec.active,
        delaySeconds: spec.delaySeconds,
        maxAgeHours: spec.maxAgeHours,
        ...(Object.keys(match).length > 0 ? { match } : {}),
      });
      expect(created.match).toEqual(match);
      specs.push({ ...spec, id: created.id });
    }
    await api.pause(pausedSurvey);

    const started = Date.now();
    // Ages well away from every maxAgeHours (1 h, 24 h, 168 h).
    const AGES = [5 * MINUTE, 90 * MINUTE, 30 * HOUR, 5 * DAY, 10 * DAY];
    const interactions = Array.from({ length: 500 }, (_, i) => ({
      externalId: `B-${i}`,
      customerId: random.pick(customers).externalId,
      channel: random.pick(CHANNELS),
      touchpoint: maybe(TOUCHPOINTS),
      outcome: maybe(OUTCOMES),
      team: maybe(TEAMS),
      resolved: random.next() < 0.2 ? null : random.next() < 0.5,
      occurredAt: new Date(started - random.pick(AGES)).toISOString(),
    }));

    // The rules, re-implemented: every given list contains the value (null never matches), resolved
    // equal, young enough, trigger active and survey active.
    const matches = (spec: Spec, interaction: (typeof interactions)[number]) => {
      const customer = customerOf.get(interaction.customerId);
      const values: Record<string, string | null | undefined> = {
        channel: interaction.channel,
        touchpoint: interaction.touchpoint,
        outcome: interaction.outcome,
        team: interaction.team,
        segment: customer?.segment,
        lifecycleStage: customer?.lifecycleStage,
        personalityType: customer?.personalityType,
      };
      for (const [field, wanted] of Object.entries(spec.match)) {
        if (field === 'resolved') {
          if (interaction.resolved !== wanted) return false;
        } else {
          const value = values[field];
          if (value == null || !(wanted as string[]).includes(value)) return false;
        }
      }
      const age = started - Date.parse(interaction.occurredAt);
      return spec.active && spec.surveyId !== pausedSurvey && age < spec.maxAgeHours * HOUR;
    };
    const expected = new Map<string, number>();
    for (const spec of specs) {
      for (const interaction of interactions) {
        if (matches(spec, interaction)) {
          expected.set(
            `${spec.id}/${interaction.externalId}`,
            Date.parse(interaction.occurredAt) + spec.delaySeconds * 1000,
          );
        }
      }
    }
    expect(expected.size).toBeGreaterThan(300); // the draw exercises the rules

    expect(await api.interactions(interactions)).toMatchObject({ created: 500 });
    const finished = Date.now();
    const rows = await api.rows();
    const actual = rows.map((row) => `${row.trigger_id}/${row.interaction_external_id}`).sort();
    expect(actual).toEqual([...expected.keys()].sort());
    for (const row of rows) {
      const due = expected.get(`${row.trigger_id}/${row.interaction_external_id}`) as number;
      const interaction = interactions[Number(row.interaction_external_id?.slice(2))];
      expect(row.touchpoint).toBe(interaction?.touchpoint ?? null);
      expect(row.contact_channel).toBe(interaction?.channel);
      expect(row.customer_external_id).toBe(interaction?.customerId);
      expect(row.survey_id).toBe(specs.find((spec) => spec.id === row.trigger_id)?.surveyId);
      if (due > finished + 2000) expect(row.due_at.getTime()).toBe(due);
      else expect(row.due_at.getTime()).toBeGreaterThanOrEqual(Math.max(due, started - 2000));
    }
  });

  test('samplePercent draws a stable, per-trigger sample of the right size', async () => {
    const api = await workspaceApi(app, db);
    const survey = await api.survey();
    const a = await api.trigger(survey, { channel: 'email', samplePercent: 30 });
    const b = await api.trigger(survey, { channel: 'email', samplePercent: 30 });
    expect(a.samplePercent).toBe(30);
    const n = 4000;
    const p = 0.3;
    const occurredAt = new Date(Date.now() - MINUTE).toISOString();
    const batch = (from: number, agent: string) =>
      Array.from({ length: 1000 }, (_, i) => ({
        externalId: `S-${from + i}`,
        customerId: `C-${(from + i) % 97}`,
        channel: 'phone',
        agent,
        occurredAt,
      }));
    for (let from = 0; from < n; from += 1000) await api.interactions(batch(from, 'Ann'));

    const sampled = async () => {
      const rows = await api.rows();
      const of = (trigger: number) =>
        new Set(rows.filter((row) => row.trigger_id === trigger).map((row) => row.interaction_id));
      return { all: rows.length, a: of(a.id), b: of(b.id) };
    };
    const first = await sampled();
    const sigma = Math.sqrt(n * p * (1 - p));
    for (const chosen of [first.a, first.b]) {
      expect(Math.abs(chosen.size - n * p), `${chosen.size} of ${n}`).toBeLessThanOrEqual(4 * sigma);
    }
    // Independent draws per trigger: the overlap is about n·p², far from a shared choice.
    const overlap = [...first.a].filter((id) => first.b.has(id)).length;
    const overlapSigma = Math.sqrt(n * p * p * (1 - p * p));
    expect(Math.abs(overlap - n * p * p), `overlap ${overlap}`).toBeLessThanOrEqual(5 * overlapSigma);

    // Re-sending every interaction, changed (the UPDATE trigger fires for all 4,000) or not, draws
    // the same sample: no invitation is added.
    for (let from = 0; from < n; from += 1000) {
      expect(await api.interactions(batch(from, 'Bo'))).toMatchObject({ updated: 1000 });
    }
    expect(await api.interactions(batch(0, 'Bo'))).toMatchObject({ unchanged: 1000 });
    const again = await sampled();
    expect(again.all).toBe(first.all);
    expect([...again.a].sort()).toEqual([...first.a].sort());
    expect([...again.b].sort()).toEqual([...first.b].sort());
  });

  const relationshipSetup = async () => {
    const api = await workspaceApi(app, db);
    const customers = Array.from({ length: 300 }, (_, i) => ({
      externalId: `R-${i}`,
      email: `r${i}@example.com`,
    }));
    await api.customers(customers);
    const survey = await api.survey('relationship-nps');
    const trigger = await api.trigger(survey, { kind: 'relationship', channel: 'email', everyDays: 30 });
    expect(trigger).toMatchObject({ kind: 'relationship', everyDays: 30, samplePercent: 100 });
    const perCustomer = async () => {
      const rows = await api.rows();
      for (const row of rows) {
        expect(row).toMatchObject({ trigger_id: trigger.id, survey_id: survey, channel: 'email' });
        expect(row.interaction_id).toBeNull();
      }
      const counts = new Map<string, number>();
      for (const row of rows) {
        const key = row.customer_external_id as string;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      return { rows, counts };
    };
    return { api, trigger, created: Date.parse(trigger.createdAt), perCustomer };
  };

  test('relationship triggers of paused surveys, inactive ones and other workspaces are left alone', async () => {
    const { api, trigger, created } = await relationshipSetup();
    const other = await relationshipSetup();
    const paused = await api.survey('relationship-nps');
    const pausedTrigger = await api.trigger(paused, {
      kind: 'relationship',
      channel: 'email',
      everyDays: 30,
    });
    await api.pause(paused);
    const inactive = await api.trigger(await api.survey('relationship-nps'), {
      kind: 'relationship',
      channel: 'email',
      everyDays: 7,
      active: false,
    });
    const at = new Date(created + 31 * DAY);
    await scheduleRelationshipSurveys(db, at, api.ws.id);
    const through = async (id: number) =>
      (
        await db
          .selectFrom('survey_trigger')
          .select('scheduled_through')
          .where('id', '=', id)
          .executeTakeFirstOrThrow()
      ).scheduled_through;
    expect(await through(trigger.id)).toEqual(at);
    expect(await through(pausedTrigger.id)).toBeNull();
    expect(await through(inactive.id)).toBeNull();
    expect(await through(other.trigger.id)).toBeNull(); // another workspace: not scheduled by this call
    expect(await other.api.rows()).toEqual([]);
    const rows = await api.rows();
    expect(rows.filter((row) => row.trigger_id !== trigger.id)).toEqual([]);
  });

  test('a relationship trigger asks every customer once per period', async () => {
    const { api, created, perCustomer } = await relationshipSetup();
    const at31 = new Date(created + 31 * DAY);
    expect(await scheduleRelationshipSurveys(db, at31, api.ws.id)).toBe(300);
    let { rows, counts } = await perCustomer();
    expect(counts.size).toBe(300);
    expect([...counts.values()].every((count) => count === 1)).toBe(true);
    expect(rows.every((row) => row.status === 'scheduled' && row.due_at.getTime() === at31.getTime())).toBe(
      true,
    );
    // Scheduling again at the same time adds nothing.
    expect(await scheduleRelationshipSurveys(db, at31, api.ws.id)).toBe(0);

    // One period later, everybody's turn comes again.
    expect(await scheduleRelationshipSurveys(db, new Date(created + 61 * DAY), api.ws.id)).toBe(300);
    ({ rows, counts } = await perCustomer());
    expect([...counts.values()].every((count) => count === 2)).toBe(true);
    expect(new Set(rows.map((row) => row.subject_key)).size).toBe(600);
    expect(await scheduleRelationshipSurveys(db, new Date(created + 61 * DAY), api.ws.id)).toBe(0);
  });

  test('a new relationship trigger spreads its invitations over the period', async () => {
    const { api, created, perCustomer } = await relationshipSetup();
    // Before the trigger existed nobody is due.
    expect(await scheduleRelationshipSurveys(db, new Date(created - DAY), api.ws.id)).toBe(0);
    const half = await scheduleRelationshipSurveys(db, new Date(created + 15 * DAY), api.ws.id);
    const sigma = Math.sqrt(300 * 0.5 * 0.5);
    expect(Math.abs(half - 150), `${half} of 300 at half the period`).toBeLessThanOrEqual(5 * sigma);
    // By the end of the first period the others had their turn: each customer exactly once.
    const rest = await scheduleRelationshipSurveys(db, new Date(created + 30 * DAY - MINUTE), api.ws.id);
    expect(half + rest).toBe(300);
    const { counts } = await perCustomer();
    expect(counts.size).toBe(300);
    expect([...counts.values()].every((count) => count === 1)).toBe(true);
  });
});
