import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { expect, test } from 'vitest';
import { describeEachDatabase } from '../../../test/helpers/databases.js';
import { auth, expectError, useApp } from '../../../test/helpers/http.js';
import { createTestWorkspace, type TestWorkspace } from '../../../test/helpers/workspace.js';
import type { ErrorBody } from '../errors.js';

// The survey API through HTTP: templates, definitions and their versions, status, triggers,
// invitations, contact-fatigue settings, opt-outs, roles and workspace isolation. Expected values
// are written out here, not taken from the code under test.

type Json = Record<string, unknown>;
type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

interface SurveyBody {
  id: number;
  name: string;
  status: 'active' | 'paused' | 'archived';
  version: number;
  template: string | null;
  createdAt: string;
  updatedAt: string;
  definition: Json & { languages: string[]; questions: Array<Json & { id: string; text: Json }> };
  versions: Array<{ version: number; createdAt: string }>;
}

interface TriggerBody {
  id: number;
  surveyId: number;
  kind: 'interaction' | 'relationship';
  channel: string;
  active: boolean;
  match: Record<string, string[] | boolean>;
  delaySeconds: number;
  samplePercent: number;
  maxAgeHours: number;
  everyDays: number | null;
  createdAt: string;
}

interface InvitationBody {
  id: string;
  surveyId: number;
  surveyVersion: number | null;
  triggerId: number | null;
  customerId: string | null;
  interactionId: string | null;
  channel: string;
  touchpoint: string | null;
  status: string;
  reason: string | null;
  reasonDetail: string | null;
  dueAt: string;
  sentAt: string | null;
  openedAt: string | null;
  startedAt: string | null;
  completedAt: string | null;
  expiresAt: string | null;
  remindedAt: string | null;
  createdAt: string;
  url?: string | null;
}

interface InvitationPage {
  items: InvitationBody[];
  nextCursor: string | null;
}

interface OptOutBody {
  channel: string;
  source: string;
  createdAt: string;
}

const TEMPLATE_IDS = ['relationship-nps', 'transactional-nps', 'csat-after-contact', 'ces-after-contact'];
const TEMPLATE_LANGUAGES = ['en', 'de', 'fr', 'es'];
const PUBLIC_URL = 'http://localhost:3000';

const DEFAULT_SETTINGS = {
  minDaysBetweenInvitations: 30,
  touchpointQuarantineDays: 90,
  duplicateWindowHours: 12,
  quietHours: { start: '21:00', end: '08:00' },
  defaultTimeZone: 'UTC',
  sms: null,
  voice: null,
  webhook: null,
};

const paths = (error: ErrorBody['error']) => error.details.map((d) => d.path);
const sorted = (values: string[]) => [...values].sort();

const ende = (en: string, de: string) => ({ en, de });

/**
 * A valid survey in English and German with every question type and branches:
 * nps (0–10, metric nps) → reason (single) when ≤ 6, → liked (multiple) when ≥ 9; reason "price"
 * → comment (text); comment ends the survey when skipped.
 */
const customDefinition = () => ({
  name: 'Support follow-up',
  languages: ['en', 'de'],
  intro: ende('A minute of your time, please.', 'Eine Minute Ihrer Zeit, bitte.'),
  questions: [
    {
      id: 'nps',
      type: 'rating',
      text: ende('How likely are you to recommend us?', 'Wie wahrscheinlich empfehlen Sie uns?'),
      min: 0,
      max: 10,
      metric: 'nps',
      lowLabel: ende('Not at all', 'Gar nicht'),
      highLabel: ende('Very likely', 'Sehr wahrscheinlich'),
      branches: [
        { when: { max: 6 }, goto: 'reason' },
        { when: { min: 9 }, goto: 'liked' },
      ],
    },
    {
      id: 'reason',
      type: 'single',
      text: ende('What was the main problem?', 'Was war das Hauptproblem?'),
      options: [
        { value: 'price', label: ende('Price', 'Preis') },
        { value: 'service', label: ende('Service', 'Service') },
      ],
      branches: [{ when: { values: ['price'] }, goto: 'comment' }],
    },
    {
      id: 'liked',
      type: 'multiple',
      text: ende('What did you like?', 'Was hat Ihnen gefallen?'),
      required: false,
      options: [
        { value: 'speed', label: ende('Speed', 'Geschwindigkeit') },
        { value: 'staff', label: ende('Staff', 'Personal') },
        { value: 'price', label: ende('Price', 'Preis') },
      ],
    },
    {
      id: 'comment',
      type: 'text',
      text: ende('Anything else?', 'Sonst noch etwas?'),
      help: ende('Optional', 'Freiwillig'),
      maxLength: 500,
      branches: [{ when: { answered: false }, goto: 'end' }],
    },
  ],
  thankYou: ende('Thank you!', 'Danke!'),
  followUp: ende('We will get back to you.', 'Wir melden uns.'),
  invitation: {
    subject: ende('How did we do?', 'Wie waren wir?'),
    body: ende('Tell us in a minute:', 'Sagen Sie es uns in einer Minute:'),
  },
  reminderAfterDays: 3,
  expiresAfterDays: 30,
});

type Definition = ReturnType<typeof customDefinition>;
type Question = Definition['questions'][number] & Json;

/** `customDefinition()` changed by `edit` (which may mutate it freely). */
const definitionWith = (edit: (definition: Definition & Json, questions: Question[]) => void): Json => {
  const definition = customDefinition() as Definition & Json;
  edit(definition, definition.questions as Question[]);
  return definition;
};

/** The same JSON with every object's keys in reverse order. */
const reversedKeys = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(reversedKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .reverse()
        .map(([key, inner]) => [key, reversedKeys(inner)]),
    );
  }
  return value;
};

/** The definition's questions' ids. */
const questionIds = (survey: SurveyBody) => survey.definition.questions.map((q) => q.id);

describeEachDatabase('survey routes', (database) => {
  const app = useApp(database);

  const workspace = () => createTestWorkspace(database().db);

  const call = (method: Method, key: string | null, url: string, payload?: unknown) =>
    app().inject({
      method,
      url,
      headers: key === null ? {} : auth(key),
      ...(payload === undefined ? {} : { payload: payload as InjectOptions['payload'] }),
    });

  const expectStatus = (res: LightMyRequestResponse, status: number) => {
    expect(res.statusCode, `${res.raw.req.method} ${res.raw.req.url}: ${res.body.slice(0, 600)}`).toBe(
      status,
    );
  };

  const ok = async <T>(res: Promise<LightMyRequestResponse>, status = 200): Promise<T> => {
    const done = await res;
    expectStatus(done, status);
    return done.json() as T;
  };

  const createSurvey = (ws: TestWorkspace, body: Json = { definition: customDefinition() }) =>
    ok<SurveyBody>(call('POST', ws.keys.admin, '/api/v1/surveys', body), 201);

  const getSurvey = (ws: TestWorkspace, id: number) =>
    ok<SurveyBody>(call('GET', ws.keys.read, `/api/v1/surveys/${id}`));

  const putSurvey = (ws: TestWorkspace, id: number, definition: unknown) =>
    ok<SurveyBody>(call('PUT', ws.keys.admin, `/api/v1/surveys/${id}`, { definition }));

  const ingest = async (ws: TestWorkspace, type: 'customers' | 'interactions', payload: unknown) => {
    await ok(call('POST', ws.keys.write, `/api/v1/${type}`, payload));
  };

  const customer = (ws: TestWorkspace, externalId: string, extra: Json = {}) =>
    ingest(ws, 'customers', { externalId, name: `Customer ${externalId}`, ...extra });

  const interaction = (ws: TestWorkspace, externalId: string, customerId: string) =>
    ingest(ws, 'interactions', {
      externalId,
      customerId,
      channel: 'phone',
      touchpoint: 'billing',
      occurredAt: new Date(Date.now() - 3_600_000).toISOString(),
    });

  const invite = (ws: TestWorkspace, surveyId: number, body: Json, key = ws.keys.write) =>
    call('POST', key, `/api/v1/surveys/${surveyId}/invitations`, body);

  const listInvitations = (ws: TestWorkspace, query = '') =>
    ok<InvitationPage>(call('GET', ws.keys.read, `/api/v1/invitations${query ? `?${query}` : ''}`));

  /**
   * The triggers of a survey the key cannot see: nothing is revealed. (Today the list answers
   * 200 with [] for an unknown survey where every other /surveys/{id} route answers 404.)
   */
  const expectNoTriggers = async (key: string, surveyId: number) => {
    const res = await call('GET', key, `/api/v1/surveys/${surveyId}/triggers`);
    if (res.statusCode === 404) expectError(res, 404, 'not_found');
    else {
      expectStatus(res, 200);
      expect(res.json()).toEqual([]);
    }
  };

  const storedSurveySettings = async (ws: TestWorkspace) => {
    const row = await database()
      .db.selectFrom('workspace')
      .select('settings')
      .where('id', '=', ws.id)
      .executeTakeFirstOrThrow();
    return (row.settings as { surveys?: Json } | null)?.surveys as Json & {
      sms?: Json | null;
      voice?: Json | null;
      webhook?: Json | null;
    };
  };

  // ---------------------------------------------------------------- templates

  test('GET /api/v1/survey-templates lists the four templates in en, de, fr and es', async () => {
    const ws = await workspace();
    const templates = await ok<Array<{ id: string; name: string; description: string; languages: string[] }>>(
      call('GET', ws.keys.read, '/api/v1/survey-templates'),
    );
    expect(templates.map((t) => t.id)).toEqual(TEMPLATE_IDS);
    for (const template of templates) {
      expect(template.name.length).toBeGreaterThan(0);
      expect(template.description.length).toBeGreaterThan(0);
      expect(template.languages).toEqual(TEMPLATE_LANGUAGES);
    }
  });

  test('POST /api/v1/surveys from a template in two languages → 201, version 1, both languages', async () => {
    const ws = await workspace();
    const survey = await createSurvey(ws, { template: 'relationship-nps', languages: ['en', 'de'] });
    expect(survey).toMatchObject({
      id: expect.any(Number),
      name: 'Relationship NPS',
      status: 'active',
      version: 1,
      template: 'relationship-nps',
      versions: [{ version: 1, createdAt: expect.any(String) }],
    });
    expect(Number.isNaN(Date.parse(survey.createdAt))).toBe(false);
    const { definition } = survey;
    expect(definition.languages).toEqual(['en', 'de']);
    expect(definition.name).toBe('Relationship NPS');
    expect(questionIds(survey)).toEqual(['nps', 'improve', 'improve_passive', 'liked']);
    expect(definition.questions[0]).toMatchObject({ type: 'rating', min: 0, max: 10, metric: 'nps' });
    // Every text is in exactly the two languages asked for.
    const texts = [
      definition.thankYou,
      (definition.invitation as Json).subject,
      (definition.invitation as Json).body,
      ...definition.questions.map((q) => q.text),
    ] as Array<Record<string, string>>;
    for (const text of texts) {
      expect(Object.keys(text).sort()).toEqual(['de', 'en']);
      expect(text.en.length).toBeGreaterThan(0);
      expect(text.de.length).toBeGreaterThan(0);
      expect(text.de).not.toBe(text.en);
    }
    // What POST answered is what GET reads.
    expect(await getSurvey(ws, survey.id)).toEqual(survey);
    const list = await ok<Json[]>(call('GET', ws.keys.read, '/api/v1/surveys'));
    expect(list).toEqual([
      {
        id: survey.id,
        name: survey.name,
        status: 'active',
        version: 1,
        template: 'relationship-nps',
        createdAt: survey.createdAt,
        updatedAt: survey.updatedAt,
      },
    ]);
  });

  test('every template can be created in every language; the name and the default language', async () => {
    const ws = await workspace();
    for (const template of TEMPLATE_IDS) {
      const survey = await createSurvey(ws, { template, languages: ['fr', 'es', 'en', 'de'] });
      expect(survey.template).toBe(template);
      expect(survey.definition.languages).toEqual(['fr', 'es', 'en', 'de']);
    }
    const named = await createSurvey(ws, { template: 'csat-after-contact', name: 'Support CSAT' });
    expect(named.name).toBe('Support CSAT');
    expect(named.definition.name).toBe('Support CSAT');
    expect(named.definition.languages).toEqual(['en']);
    expect(named.definition.questions.find((q) => q.metric === 'csat')).toMatchObject({ min: 1, max: 5 });
    const list = await ok<Json[]>(call('GET', ws.keys.read, '/api/v1/surveys'));
    expect(list.map((s) => s.template)).toEqual([...TEMPLATE_IDS, 'csat-after-contact']);
  });

  test('an unknown template → 400 unknown_template; an unsupported language → 400 unsupported_language', async () => {
    const ws = await workspace();
    const unknown = expectError(
      await call('POST', ws.keys.admin, '/api/v1/surveys', { template: 'employee-nps', languages: ['en'] }),
      400,
      'unknown_template',
    );
    expect(unknown.message).toContain('employee-nps');
    expect(unknown.message).toContain('relationship-nps');
    const language = expectError(
      await call('POST', ws.keys.admin, '/api/v1/surveys', {
        template: 'relationship-nps',
        languages: ['en', 'it'],
      }),
      400,
      'unsupported_language',
    );
    expect(language.message).toContain('it');
    // Bad request shapes are refused before any template is looked at.
    for (const body of [
      { template: 'relationship-nps', languages: [] },
      { template: 'relationship-nps', name: '' },
      { template: 'relationship-nps', colour: 'blue' },
      { template: 'relationship-nps', definition: customDefinition() },
      {},
    ]) {
      expectError(await call('POST', ws.keys.admin, '/api/v1/surveys', body), 400, 'validation_failed');
    }
    expect(await ok<Json[]>(call('GET', ws.keys.read, '/api/v1/surveys'))).toEqual([]);
  });

  // ---------------------------------------------------------------- custom definitions

  test('POST /api/v1/surveys with a full definition → 201; GET returns it with the defaults filled in', async () => {
    const ws = await workspace();
    const sent = customDefinition();
    const survey = await createSurvey(ws, { definition: sent });
    expect(survey).toMatchObject({ name: 'Support follow-up', status: 'active', version: 1, template: null });
    const read = await getSurvey(ws, survey.id);
    expect(read).toEqual(survey);
    // Everything that was sent comes back as sent …
    expect(read.definition).toMatchObject(sent);
    // … with the defaults of what was left out.
    const [nps, reason, liked, comment] = read.definition.questions;
    expect(nps).toMatchObject({ required: true });
    expect(reason).toMatchObject({ required: true });
    expect(liked).toMatchObject({ required: false, branches: [] });
    expect(comment).toMatchObject({ required: false, maxLength: 500 });
    expect(read.definition).toEqual({
      ...sent,
      questions: [
        { ...sent.questions[0], required: true },
        { ...sent.questions[1], required: true },
        { ...sent.questions[2], branches: [] },
        { ...sent.questions[3], required: false },
      ],
    });
  });

  test('a minimal definition gets its defaults', async () => {
    const ws = await workspace();
    const survey = await createSurvey(ws, {
      definition: {
        name: 'One question',
        languages: ['en'],
        questions: [{ id: 'q', type: 'text', text: { en: 'Say something' } }],
        thankYou: { en: 'Thanks' },
        invitation: { subject: { en: 'Hi' }, body: { en: 'Please answer' } },
      },
    });
    expect(survey.definition).toEqual({
      name: 'One question',
      languages: ['en'],
      questions: [
        {
          id: 'q',
          type: 'text',
          text: { en: 'Say something' },
          required: false,
          maxLength: 5000,
          branches: [],
        },
      ],
      thankYou: { en: 'Thanks' },
      invitation: { subject: { en: 'Hi' }, body: { en: 'Please answer' } },
      reminderAfterDays: null,
      expiresAfterDays: 14,
    });
  });

  const INVALID: Array<{ what: string; definition: () => Json; paths: string[]; message?: RegExp }> = [
    {
      what: 'an unknown question type',
      definition: () =>
        definitionWith((_, q) => {
          q[1].type = 'slider';
        }),
      paths: ['questions[1].type'],
      message: /rating, single, multiple, text.*"slider"/,
    },
    {
      what: 'a missing translation',
      definition: () =>
        definitionWith((_, q) => {
          delete (q[1].text as Partial<Record<string, string>>).de;
        }),
      paths: ['questions[1].text.de'],
      message: /missing the "de" translation/,
    },
    {
      what: 'a translation in a language the survey does not have',
      definition: () =>
        definitionWith((d) => {
          d.thankYou = { ...d.thankYou, fr: 'Merci' } as typeof d.thankYou;
        }),
      paths: ['thankYou.fr'],
      message: /not one of the survey's languages/,
    },
    {
      what: 'a branch back to an earlier question',
      definition: () =>
        definitionWith((_, q) => {
          q[3].branches = [{ when: { answered: true }, goto: 'reason' }];
        }),
      paths: ['questions[3].branches[0].goto'],
      message: /cycle reason → … → comment → reason/,
    },
    {
      what: 'a branch to the question itself',
      definition: () =>
        definitionWith((_, q) => {
          q[1].branches = [{ when: { values: ['service'] }, goto: 'reason' }];
        }),
      paths: ['questions[1].branches[0].goto'],
      message: /cycle reason → reason/,
    },
    {
      what: 'a goto to an unknown id',
      definition: () =>
        definitionWith((_, q) => {
          (q[0].branches as Array<{ goto: string }>)[1].goto = 'nowhere';
        }),
      paths: ['questions[0].branches[1].goto'],
      message: /"nowhere" is not a question of this survey/,
    },
    {
      what: 'metric nps on a 1–10 scale',
      definition: () =>
        definitionWith((_, q) => {
          q[0].min = 1;
        }),
      paths: ['questions[0].metric'],
      message: /nps needs the scale 0–10, got 1–10/,
    },
    {
      what: 'duplicate question ids',
      definition: () =>
        definitionWith((_, q) => {
          q.push({ id: 'comment', type: 'text', text: ende('Again?', 'Nochmal?') } as Question);
        }),
      paths: ['questions[4].id'],
      message: /"comment" is already the id of questions\[3\]/,
    },
    {
      what: 'duplicate option values',
      definition: () =>
        definitionWith((_, q) => {
          (q[2].options as Json[])[2].value = 'speed';
        }),
      paths: ['questions[2].options[2].value'],
    },
    {
      what: 'an unknown top-level field',
      definition: () =>
        definitionWith((d) => {
          d.colour = 'blue';
        }),
      paths: ['colour'],
      message: /not a known field/,
    },
    {
      what: 'an unknown field of a question',
      definition: () =>
        definitionWith((_, q) => {
          q[3].options = [];
        }),
      paths: ['questions[3].options'],
      message: /only single and multiple questions have it/,
    },
    {
      what: 'a branch condition of the wrong kind',
      definition: () =>
        definitionWith((_, q) => {
          q[1].branches = [{ when: { min: 3 }, goto: 'comment' }];
        }),
      paths: ['questions[1].branches[0].when.min'],
    },
    {
      what: 'a missing thank-you',
      definition: () =>
        definitionWith((d) => {
          delete (d as Partial<Definition>).thankYou;
        }),
      paths: ['thankYou'],
      message: /required/,
    },
    {
      what: 'a bad language code',
      definition: () => ({ ...customDefinition(), languages: ['en', 'de', 'EN'] }),
      // The language is refused, so no text is checked against the list.
      paths: ['languages[2]'],
    },
  ];

  for (const bad of INVALID) {
    test(`POST /api/v1/surveys with ${bad.what} → 400 invalid_survey at ${bad.paths.join(', ')}`, async () => {
      const ws = await workspace();
      const res = await call('POST', ws.keys.admin, '/api/v1/surveys', { definition: bad.definition() });
      const error = expectError(res, 400, 'invalid_survey');
      expect(paths(error)).toEqual(bad.paths);
      if (bad.message) expect(error.details[0]?.message).toMatch(bad.message);
      expect(await ok<Json[]>(call('GET', ws.keys.read, '/api/v1/surveys'))).toEqual([]);
    });
  }

  test('several problems are reported at once, each with its path', async () => {
    const ws = await workspace();
    const definition = definitionWith((d, q) => {
      q[1].type = 'slider';
      delete (d.thankYou as Partial<Record<string, string>>).de;
      (q[0].branches as Array<{ goto: string }>)[0].goto = 'nowhere';
      q[3].branches = [{ when: { answered: false }, goto: 'nps' }];
      q[2].colour = 'blue';
      d.expiresAfterDays = 0;
    });
    const error = expectError(
      await call('POST', ws.keys.admin, '/api/v1/surveys', { definition }),
      400,
      'invalid_survey',
    );
    expect(sorted(paths(error))).toEqual(
      sorted([
        'questions[1].type',
        'questions[2].colour',
        'expiresAfterDays',
        'thankYou.de',
        'questions[0].branches[0].goto',
        'questions[3].branches[0].goto',
      ]),
    );
    expect(error.message).toContain('6 problems');
  });

  test('a definition that is not an object → 400', async () => {
    const ws = await workspace();
    for (const definition of ['a survey', [], 42, null]) {
      expectError(await call('POST', ws.keys.admin, '/api/v1/surveys', { definition }), 400);
    }
    expectError(
      await call('POST', ws.keys.admin, '/api/v1/surveys', { definition: {} }),
      400,
      'invalid_survey',
    );
  });

  // ---------------------------------------------------------------- versions

  test('PUT with a changed definition makes version 2; older versions stay readable and unchanged', async () => {
    const ws = await workspace();
    const v1 = await createSurvey(ws);
    const changed = definitionWith((d, q) => {
      d.name = 'Support follow-up (v2)';
      q[0].text = ende('Would you recommend us?', 'Würden Sie uns empfehlen?');
    });
    const v2 = await putSurvey(ws, v1.id, changed);
    expect(v2).toMatchObject({ id: v1.id, version: 2, name: 'Support follow-up (v2)', status: 'active' });
    expect(v2.versions.map((v) => v.version)).toEqual([1, 2]);
    expect(v2.definition).toMatchObject(changed);
    expect(v2.createdAt).toBe(v1.createdAt);
    expect(Date.parse(v2.updatedAt)).toBeGreaterThanOrEqual(Date.parse(v1.updatedAt));
    expect(await getSurvey(ws, v1.id)).toEqual(v2);

    const old = await ok<{ version: number; definition: Json }>(
      call('GET', ws.keys.read, `/api/v1/surveys/${v1.id}/versions/1`),
    );
    expect(old).toEqual({ version: 1, definition: v1.definition });
    const current = await ok<{ version: number; definition: Json }>(
      call('GET', ws.keys.read, `/api/v1/surveys/${v1.id}/versions/2`),
    );
    expect(current).toEqual({ version: 2, definition: v2.definition });

    // The same definition again, also with its keys in another order, changes nothing.
    const same = await putSurvey(ws, v1.id, changed);
    expect(same).toEqual(v2);
    const reordered = await putSurvey(ws, v1.id, reversedKeys(changed));
    expect(reordered.version).toBe(2);
    expect(reordered.versions.map((v) => v.version)).toEqual([1, 2]);
    // So does sending back what GET returned (defaults filled in).
    expect((await putSurvey(ws, v1.id, v2.definition)).version).toBe(2);

    expectError(await call('GET', ws.keys.read, `/api/v1/surveys/${v1.id}/versions/3`), 404, 'not_found');
    expectError(
      await call('GET', ws.keys.read, `/api/v1/surveys/${v1.id}/versions/0`),
      400,
      'validation_failed',
    );
    expectError(await call('GET', ws.keys.read, `/api/v1/surveys/${v1.id}/versions/two`), 400);
  });

  test('PUT with an invalid definition → 400 invalid_survey and no new version; unknown id → 404', async () => {
    const ws = await workspace();
    const survey = await createSurvey(ws);
    const error = expectError(
      await call('PUT', ws.keys.admin, `/api/v1/surveys/${survey.id}`, {
        definition: definitionWith((_, q) => {
          q[1].type = 'slider';
        }),
      }),
      400,
      'invalid_survey',
    );
    expect(paths(error)).toEqual(['questions[1].type']);
    expect(await getSurvey(ws, survey.id)).toEqual(survey);
    expectError(
      await call('PUT', ws.keys.admin, `/api/v1/surveys/${survey.id}`, {
        definition: customDefinition(),
        name: 'x',
      }),
      400,
      'validation_failed',
    );
    expectError(
      await call('PUT', ws.keys.admin, `/api/v1/surveys/${survey.id + 1_000_000}`, {
        definition: customDefinition(),
      }),
      404,
      'not_found',
    );
    expectError(
      await call('GET', ws.keys.read, `/api/v1/surveys/${survey.id + 1_000_000}`),
      404,
      'not_found',
    );
    expectError(await call('GET', ws.keys.read, '/api/v1/surveys/abc'), 400, 'validation_failed');
  });

  test('a template survey sent back unchanged stays at version 1', async () => {
    const ws = await workspace();
    const survey = await createSurvey(ws, { template: 'transactional-nps', languages: ['de', 'en'] });
    expect((await putSurvey(ws, survey.id, survey.definition)).version).toBe(1);
    expect((await putSurvey(ws, survey.id, reversedKeys(survey.definition))).version).toBe(1);
  });

  test('concurrent PUTs of the same new definition make exactly one new version', async () => {
    const ws = await workspace();
    const survey = await createSurvey(ws);
    const changed = definitionWith((d) => {
      d.expiresAfterDays = 10;
    });
    const results = await Promise.all([1, 2, 3, 4].map(() => putSurvey(ws, survey.id, changed)));
    for (const result of results) expect(result.version).toBe(2);
    expect((await getSurvey(ws, survey.id)).versions.map((v) => v.version)).toEqual([1, 2]);
  });

  // ---------------------------------------------------------------- status

  test('PATCH /api/v1/surveys/{id} pauses, resumes and archives; a bad status → 400', async () => {
    const ws = await workspace();
    const survey = await createSurvey(ws);
    for (const status of ['paused', 'active', 'archived', 'active'] as const) {
      const patched = await ok<SurveyBody>(
        call('PATCH', ws.keys.admin, `/api/v1/surveys/${survey.id}`, { status }),
      );
      expect(patched).toMatchObject({ id: survey.id, status, version: 1 });
      expect((await getSurvey(ws, survey.id)).status).toBe(status);
    }
    const bad = expectError(
      await call('PATCH', ws.keys.admin, `/api/v1/surveys/${survey.id}`, { status: 'deleted' }),
      400,
      'validation_failed',
    );
    expect(paths(bad)).toEqual(['status']);
    expectError(
      await call('PATCH', ws.keys.admin, `/api/v1/surveys/${survey.id}`, {}),
      400,
      'validation_failed',
    );
    expectError(
      await call('PATCH', ws.keys.admin, `/api/v1/surveys/${survey.id}`, { status: 'paused', name: 'x' }),
      400,
      'validation_failed',
    );
    expectError(
      await call('PATCH', ws.keys.admin, `/api/v1/surveys/${survey.id + 1_000_000}`, { status: 'paused' }),
      404,
      'not_found',
    );
    expect((await getSurvey(ws, survey.id)).status).toBe('active');
  });

  // ---------------------------------------------------------------- triggers

  test('POST /api/v1/surveys/{id}/triggers: an interaction trigger, normalised, then listed', async () => {
    const ws = await workspace();
    const survey = await createSurvey(ws);
    const trigger = await ok<TriggerBody>(
      call('POST', ws.keys.admin, `/api/v1/surveys/${survey.id}/triggers`, {
        kind: 'interaction',
        channel: 'email',
        match: {
          channel: 'phone',
          touchpoint: ['billing', 'returns', 'billing'],
          lifecycleStage: ['new', 'current'],
          team: 'Tier 1',
          resolved: false,
        },
        samplePercent: 12.5,
        delaySeconds: 3600,
        maxAgeHours: 48,
      }),
      201,
    );
    expect(trigger).toEqual({
      id: expect.any(Number),
      surveyId: survey.id,
      kind: 'interaction',
      channel: 'email',
      active: true,
      match: {
        channel: ['phone'],
        touchpoint: ['billing', 'returns'],
        lifecycleStage: ['new', 'current'],
        team: ['Tier 1'],
        resolved: false,
      },
      delaySeconds: 3600,
      samplePercent: 12.5,
      maxAgeHours: 48,
      everyDays: null,
      createdAt: expect.any(String),
    });

    // Defaults: kind interaction, every interaction, everyone, at once, a week back.
    const plain = await ok<TriggerBody>(
      call('POST', ws.keys.admin, `/api/v1/surveys/${survey.id}/triggers`, { channel: 'sms' }),
      201,
    );
    expect(plain).toMatchObject({
      kind: 'interaction',
      channel: 'sms',
      active: true,
      match: {},
      delaySeconds: 0,
      samplePercent: 100,
      maxAgeHours: 168,
      everyDays: null,
    });

    const listed = await ok<TriggerBody[]>(
      call('GET', ws.keys.read, `/api/v1/surveys/${survey.id}/triggers`),
    );
    expect(listed).toEqual([trigger, plain]);
  });

  test('a relationship trigger needs everyDays and takes no match', async () => {
    const ws = await workspace();
    const survey = await createSurvey(ws, { template: 'relationship-nps' });
    const url = `/api/v1/surveys/${survey.id}/triggers`;
    const missing = expectError(
      await call('POST', ws.keys.admin, url, { kind: 'relationship', channel: 'email' }),
      400,
      'validation_failed',
    );
    expect(paths(missing)).toEqual(['everyDays']);
    const withMatch = expectError(
      await call('POST', ws.keys.admin, url, {
        kind: 'relationship',
        channel: 'email',
        everyDays: 90,
        match: { channel: 'phone' },
      }),
      400,
      'validation_failed',
    );
    expect(paths(withMatch)).toEqual(['match']);
    const onInteraction = expectError(
      await call('POST', ws.keys.admin, url, { kind: 'interaction', channel: 'email', everyDays: 90 }),
      400,
      'validation_failed',
    );
    expect(paths(onInteraction)).toEqual(['everyDays']);

    const trigger = await ok<TriggerBody>(
      call('POST', ws.keys.admin, url, { kind: 'relationship', channel: 'webhook', everyDays: 90 }),
      201,
    );
    expect(trigger).toMatchObject({
      surveyId: survey.id,
      kind: 'relationship',
      channel: 'webhook',
      everyDays: 90,
      match: {},
      active: true,
    });
    expect(await ok<TriggerBody[]>(call('GET', ws.keys.read, url))).toEqual([trigger]);
  });

  const BAD_TRIGGERS: Array<{ what: string; body: Json; paths: string[] }> = [
    {
      what: 'an unknown match field',
      body: { channel: 'email', match: { mood: 'angry' } },
      paths: ['match.mood'],
    },
    {
      what: 'an unknown contact channel',
      body: { channel: 'email', match: { channel: 'fax' } },
      paths: ['match.channel'],
    },
    {
      what: 'an empty match list',
      body: { channel: 'email', match: { touchpoint: [] } },
      paths: ['match.touchpoint'],
    },
    { what: 'the link channel', body: { channel: 'link' }, paths: ['channel'] },
    { what: 'an unknown channel', body: { channel: 'pigeon' }, paths: ['channel'] },
    { what: 'no channel', body: {}, paths: ['channel'] },
    { what: 'an unknown kind', body: { kind: 'weekly', channel: 'email' }, paths: ['kind'] },
    { what: 'samplePercent 0', body: { channel: 'email', samplePercent: 0 }, paths: ['samplePercent'] },
    { what: 'samplePercent 101', body: { channel: 'email', samplePercent: 101 }, paths: ['samplePercent'] },
    { what: 'a negative delay', body: { channel: 'email', delaySeconds: -1 }, paths: ['delaySeconds'] },
    { what: 'a fractional delay', body: { channel: 'email', delaySeconds: 1.5 }, paths: ['delaySeconds'] },
    { what: 'an unknown field', body: { channel: 'email', colour: 'blue' }, paths: ['colour'] },
  ];

  test.each(BAD_TRIGGERS)('a trigger with $what → 400 at $paths', async (bad) => {
    const ws = await workspace();
    const survey = await createSurvey(ws);
    const error = expectError(
      await call('POST', ws.keys.admin, `/api/v1/surveys/${survey.id}/triggers`, bad.body),
      400,
      'validation_failed',
    );
    expect(paths(error)).toEqual(bad.paths);
    expect(
      await ok<TriggerBody[]>(call('GET', ws.keys.read, `/api/v1/surveys/${survey.id}/triggers`)),
    ).toEqual([]);
  });

  test('samplePercent at its bounds is accepted', async () => {
    const ws = await workspace();
    const survey = await createSurvey(ws);
    for (const samplePercent of [0.5, 100]) {
      const trigger = await ok<TriggerBody>(
        call('POST', ws.keys.admin, `/api/v1/surveys/${survey.id}/triggers`, {
          channel: 'email',
          samplePercent,
        }),
        201,
      );
      expect(trigger.samplePercent).toBe(samplePercent);
    }
  });

  test('PUT /api/v1/survey-triggers/{id} replaces a trigger, e.g. to stop it', async () => {
    const ws = await workspace();
    const survey = await createSurvey(ws);
    const created = await ok<TriggerBody>(
      call('POST', ws.keys.admin, `/api/v1/surveys/${survey.id}/triggers`, {
        channel: 'email',
        match: { touchpoint: 'billing' },
        delaySeconds: 600,
      }),
      201,
    );
    const stopped = await ok<TriggerBody>(
      call('PUT', ws.keys.admin, `/api/v1/survey-triggers/${created.id}`, {
        channel: 'email',
        match: { touchpoint: 'billing' },
        delaySeconds: 600,
        active: false,
      }),
    );
    expect(stopped).toEqual({ ...created, active: false });
    expect(
      await ok<TriggerBody[]>(call('GET', ws.keys.read, `/api/v1/surveys/${survey.id}/triggers`)),
    ).toEqual([stopped]);
    // A replacement: what is left out takes its default.
    const replaced = await ok<TriggerBody>(
      call('PUT', ws.keys.admin, `/api/v1/survey-triggers/${created.id}`, {
        channel: 'sms',
        samplePercent: 50,
      }),
    );
    expect(replaced).toEqual({
      ...created,
      channel: 'sms',
      match: {},
      delaySeconds: 0,
      samplePercent: 50,
      active: true,
    });
    expectError(
      await call('PUT', ws.keys.admin, `/api/v1/survey-triggers/${created.id}`, {
        channel: 'email',
        samplePercent: 0,
      }),
      400,
      'validation_failed',
    );
    expectError(
      await call('PUT', ws.keys.admin, `/api/v1/survey-triggers/${created.id + 1_000_000}`, {
        channel: 'email',
      }),
      404,
      'not_found',
    );
  });

  test('a trigger for a survey of another workspace → 404', async () => {
    const [ws, other] = await Promise.all([workspace(), workspace()]);
    const survey = await createSurvey(ws);
    const trigger = await ok<TriggerBody>(
      call('POST', ws.keys.admin, `/api/v1/surveys/${survey.id}/triggers`, { channel: 'email' }),
      201,
    );
    expectError(
      await call('POST', other.keys.admin, `/api/v1/surveys/${survey.id}/triggers`, { channel: 'email' }),
      404,
      'not_found',
    );
    expectError(
      await call('PUT', other.keys.admin, `/api/v1/survey-triggers/${trigger.id}`, {
        channel: 'sms',
        active: false,
      }),
      404,
      'not_found',
    );
    await expectNoTriggers(other.keys.read, survey.id);
    await expectNoTriggers(ws.keys.read, survey.id + 1_000_000);
    expectError(
      await call('POST', ws.keys.admin, `/api/v1/surveys/${survey.id + 1_000_000}/triggers`, {
        channel: 'email',
      }),
      404,
      'not_found',
    );
    // The owner's trigger is untouched.
    expect(
      await ok<TriggerBody[]>(call('GET', ws.keys.read, `/api/v1/surveys/${survey.id}/triggers`)),
    ).toEqual([trigger]);
  });

  // ---------------------------------------------------------------- invitations

  test('a link invitation → 201 with a URL whose page (no auth) is an HTML form', async () => {
    const ws = await workspace();
    const survey = await createSurvey(ws, { template: 'csat-after-contact', languages: ['en', 'de'] });
    await customer(ws, 'C-1', { locale: 'de-DE' });
    await interaction(ws, 'I-1', 'C-1');
    const before = Date.now();
    const invitation = await ok<InvitationBody>(
      invite(ws, survey.id, { customerId: 'C-1', interactionId: 'I-1', channel: 'link' }),
      201,
    );
    expect(invitation).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      surveyId: survey.id,
      surveyVersion: 1,
      triggerId: null,
      customerId: 'C-1',
      interactionId: 'I-1',
      channel: 'link',
      touchpoint: 'billing',
      status: 'sent',
      reason: null,
      openedAt: null,
      completedAt: null,
    });
    expect(Date.parse(invitation.sentAt ?? '')).toBeGreaterThanOrEqual(before - 1000);
    const expiresAfterDays = survey.definition.expiresAfterDays as number;
    expect(Date.parse(invitation.expiresAt ?? '') - Date.parse(invitation.sentAt ?? '')).toBe(
      expiresAfterDays * 86_400_000,
    );
    expect(invitation.url).toMatch(new RegExp(`^${PUBLIC_URL}/s/[^/?#]+$`));

    const page = await app().inject({ method: 'GET', url: new URL(invitation.url ?? '').pathname });
    expect(page.statusCode, page.body.slice(0, 300)).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('<form');
    // The customer's locale de-DE picks the survey's German.
    expect(page.body).toContain('<html lang="de"');

    // Opening the page shows in the list.
    const { items } = await listInvitations(ws);
    expect(items).toHaveLength(1);
    const { url: _url, ...listed } = invitation;
    expect(items[0]).toMatchObject({ ...listed, openedAt: expect.any(String) });
  });

  test('a link keeps the version it was sent with after the survey changes', async () => {
    const ws = await workspace();
    const survey = await createSurvey(ws);
    await customer(ws, 'C-1', { locale: 'en' });
    const old = await ok<InvitationBody>(invite(ws, survey.id, { customerId: 'C-1', channel: 'link' }), 201);
    expect(old.surveyVersion).toBe(1);
    await putSurvey(
      ws,
      survey.id,
      definitionWith((_, q) => {
        q[0].text = ende('Would you recommend us to a friend?', 'Würden Sie uns einem Freund empfehlen?');
      }),
    );
    const fresh = await ok<InvitationBody>(
      invite(ws, survey.id, { customerId: 'C-1', channel: 'link' }),
      201,
    );
    expect(fresh.surveyVersion).toBe(2);
    const page = async (url: string | null | undefined) => {
      const res = await app().inject({ method: 'GET', url: new URL(url ?? '').pathname });
      expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
      return res.body;
    };
    const oldPage = await page(old.url);
    expect(oldPage).toContain('How likely are you to recommend us?');
    expect(oldPage).not.toContain('Would you recommend us to a friend?');
    expect(await page(fresh.url)).toContain('Would you recommend us to a friend?');
  });

  test('invitations: unknown customer, another customer’s interaction, paused survey, unknown survey', async () => {
    const ws = await workspace();
    const survey = await createSurvey(ws);
    await customer(ws, 'C-1');
    await customer(ws, 'C-2');
    await interaction(ws, 'I-2', 'C-2');
    expectError(await invite(ws, survey.id, { customerId: 'C-404', channel: 'link' }), 404, 'not_found');
    expectError(
      await invite(ws, survey.id, { customerId: 'C-1', interactionId: 'I-2', channel: 'link' }),
      404,
      'not_found',
    );
    expectError(
      await invite(ws, survey.id, { customerId: 'C-1', interactionId: 'I-404', channel: 'link' }),
      404,
      'not_found',
    );
    expectError(
      await invite(ws, survey.id + 1_000_000, { customerId: 'C-1', channel: 'link' }),
      404,
      'not_found',
    );
    for (const body of [
      { customerId: 'C-1', channel: 'fax' },
      { customerId: 'C-1' },
      { channel: 'link' },
      { customerId: 'C-1', channel: 'email', sendAt: 'tomorrow' },
      { customerId: 'C-1', channel: 'link', colour: 'blue' },
    ]) {
      expectError(await invite(ws, survey.id, body), 400, 'validation_failed');
    }

    for (const status of ['paused', 'archived']) {
      await ok(call('PATCH', ws.keys.admin, `/api/v1/surveys/${survey.id}`, { status }));
      expectError(
        await invite(ws, survey.id, { customerId: 'C-1', channel: 'link' }),
        409,
        'survey_inactive',
      );
      expectError(
        await invite(ws, survey.id, { customerId: 'C-1', channel: 'email' }),
        409,
        'survey_inactive',
      );
    }
    expect((await listInvitations(ws)).items).toEqual([]);

    await ok(call('PATCH', ws.keys.admin, `/api/v1/surveys/${survey.id}`, { status: 'active' }));
    await ok(invite(ws, survey.id, { customerId: 'C-2', interactionId: 'I-2', channel: 'link' }), 201);
  });

  test('an e-mail invitation is scheduled, without a URL; sendAt sets when it is due', async () => {
    const ws = await workspace();
    const survey = await createSurvey(ws);
    await customer(ws, 'C-1', { email: 'c1@example.com' });
    const now = await ok<InvitationBody>(invite(ws, survey.id, { customerId: 'C-1', channel: 'email' }), 201);
    expect(now).toMatchObject({
      surveyId: survey.id,
      surveyVersion: null,
      customerId: 'C-1',
      interactionId: null,
      channel: 'email',
      status: 'scheduled',
      sentAt: null,
      expiresAt: null,
      url: null,
    });
    const sendAt = '2030-01-02T03:04:05.000Z';
    const later = await ok<InvitationBody>(
      invite(ws, survey.id, { customerId: 'C-1', channel: 'sms', sendAt: '2030-01-02T04:04:05+01:00' }),
      201,
    );
    expect(later).toMatchObject({ status: 'scheduled', dueAt: sendAt, url: null });
  });

  test('GET /api/v1/invitations: newest first, filters, and pages that cover everything once', async () => {
    const ws = await workspace();
    const a = await createSurvey(ws);
    const b = await createSurvey(ws, { template: 'ces-after-contact' });
    await customer(ws, 'C-1');
    await customer(ws, 'C-2');
    const plan: Array<[number, string, 'link' | 'email']> = [
      [a.id, 'C-1', 'link'],
      [a.id, 'C-2', 'email'],
      [b.id, 'C-1', 'email'],
      [b.id, 'C-2', 'link'],
      [a.id, 'C-1', 'email'],
      [b.id, 'C-1', 'link'],
      [a.id, 'C-2', 'link'],
    ];
    const created: InvitationBody[] = [];
    for (const [surveyId, customerId, channel] of plan) {
      created.push(await ok<InvitationBody>(invite(ws, surveyId, { customerId, channel }), 201));
    }
    const newestFirst = created.map((i) => i.id).reverse();

    const all = await listInvitations(ws);
    expect(all.items.map((i) => i.id)).toEqual(newestFirst);
    expect(all.nextCursor).toBeNull();
    expect(all.items[0]).not.toHaveProperty('url');

    const ids = (page: InvitationPage) => page.items.map((i) => i.id);
    const expected = (keep: (i: InvitationBody) => boolean) =>
      created
        .filter(keep)
        .map((i) => i.id)
        .reverse();
    expect(ids(await listInvitations(ws, 'status=sent'))).toEqual(expected((i) => i.channel === 'link'));
    expect(ids(await listInvitations(ws, 'status=scheduled'))).toEqual(
      expected((i) => i.channel === 'email'),
    );
    expect(ids(await listInvitations(ws, 'status=suppressed'))).toEqual([]);
    expect(ids(await listInvitations(ws, `surveyId=${b.id}`))).toEqual(expected((i) => i.surveyId === b.id));
    expect(ids(await listInvitations(ws, 'customerId=C-2'))).toEqual(expected((i) => i.customerId === 'C-2'));
    expect(ids(await listInvitations(ws, `customerId=C-1&surveyId=${a.id}&status=scheduled`))).toEqual(
      expected((i) => i.customerId === 'C-1' && i.surveyId === a.id && i.channel === 'email'),
    );
    expect(ids(await listInvitations(ws, 'customerId=C-404'))).toEqual([]);

    for (const limit of [1, 2, 3, 7]) {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = `limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const page = await listInvitations(ws, query);
        expect(page.items.length).toBeLessThanOrEqual(limit);
        seen.push(...ids(page));
        cursor = page.nextCursor;
        pages += 1;
        expect(pages).toBeLessThanOrEqual(plan.length);
      } while (cursor !== null);
      expect(seen, `limit ${limit}`).toEqual(newestFirst);
      expect(new Set(seen).size).toBe(plan.length);
      expect(pages).toBe(Math.ceil(plan.length / limit));
    }
    // Paging through a filtered list.
    const first = await listInvitations(ws, 'customerId=C-1&limit=2');
    const second = await listInvitations(ws, `customerId=C-1&limit=2&cursor=${first.nextCursor}`);
    expect([...ids(first), ...ids(second)]).toEqual(expected((i) => i.customerId === 'C-1'));
    expect(second.nextCursor).toBeNull();
  });

  test('GET /api/v1/invitations with a bad cursor, status or limit → 400', async () => {
    const ws = await workspace();
    for (const cursor of ['abc', '0', '-5', '1.5']) {
      const error = expectError(
        await call('GET', ws.keys.read, `/api/v1/invitations?cursor=${cursor}`),
        400,
        'validation_failed',
      );
      expect(paths(error), cursor).toEqual(['cursor']);
    }
    for (const [query, path] of [
      ['status=lost', 'query.status'],
      ['limit=0', 'query.limit'],
      ['limit=501', 'query.limit'],
      ['surveyId=abc', 'query.surveyId'],
      [`cursor=${'9'.repeat(41)}`, 'query.cursor'],
    ]) {
      const error = expectError(await call('GET', ws.keys.read, `/api/v1/invitations?${query}`), 400);
      expect(paths(error), query).toEqual([path]);
    }
  });

  // ---------------------------------------------------------------- settings

  test('GET /api/v1/survey-settings returns the defaults', async () => {
    const ws = await workspace();
    expect(await ok(call('GET', ws.keys.admin, '/api/v1/survey-settings'))).toMatchObject(DEFAULT_SETTINGS);
  });

  test('PUT /api/v1/survey-settings round-trips; credentials are shown as "***" and kept when sent back', async () => {
    const ws = await workspace();
    const settings = {
      minDaysBetweenInvitations: 7,
      touchpointQuarantineDays: 0,
      duplicateWindowHours: 24,
      quietHours: { start: '22:30', end: '07:15' },
      defaultTimeZone: 'Europe/Berlin',
      sms: {
        url: 'https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json',
        from: '+15550001',
        authorization: 'Basic c2lkOnRva2Vu',
      },
      voice: { url: 'https://voice.example.com/call', from: '+15550002', authorization: 'Bearer voice' },
      webhook: { url: 'https://hooks.example.com/survey', secret: 'a-webhook-secret-of-32-characters' },
    };
    const redacted = {
      ...settings,
      sms: { ...settings.sms, authorization: '***' },
      voice: { ...settings.voice, authorization: '***' },
      webhook: { ...settings.webhook, secret: '***' },
    };
    expect(await ok(call('PUT', ws.keys.admin, '/api/v1/survey-settings', settings))).toMatchObject(redacted);
    expect(await ok(call('GET', ws.keys.admin, '/api/v1/survey-settings'))).toMatchObject(redacted);
    expect(await storedSurveySettings(ws)).toMatchObject(settings);

    // What GET shows, sent back with a change elsewhere, keeps the credentials.
    const shown = await ok<typeof redacted>(call('GET', ws.keys.admin, '/api/v1/survey-settings'));
    expect(
      await ok(call('PUT', ws.keys.admin, '/api/v1/survey-settings', { ...shown, duplicateWindowHours: 6 })),
    ).toMatchObject({ ...redacted, duplicateWindowHours: 6 });
    expect(await storedSurveySettings(ws)).toMatchObject({ ...settings, duplicateWindowHours: 6 });

    // A new value replaces the stored one.
    const rotated = {
      ...shown,
      sms: { ...shown.sms, authorization: 'Bearer new-token' },
      webhook: { ...shown.webhook, secret: 'another-secret-of-enough-length' },
    };
    expect(await ok(call('PUT', ws.keys.admin, '/api/v1/survey-settings', rotated))).toMatchObject(redacted);
    const stored = await storedSurveySettings(ws);
    expect(stored.sms?.authorization).toBe('Bearer new-token');
    expect(stored.webhook?.secret).toBe('another-secret-of-enough-length');
    expect(stored.voice?.authorization).toBe('Bearer voice');

    // Leaving a credential out removes it.
    const { authorization: _dropped, ...smsWithout } = settings.sms;
    expect(
      await ok(call('PUT', ws.keys.admin, '/api/v1/survey-settings', { ...rotated, sms: smsWithout })),
    ).toMatchObject({ ...redacted, sms: smsWithout });
    expect((await storedSurveySettings(ws)).sms).toEqual(smsWithout);

    // Fields left out take their defaults.
    expect(
      await ok(call('PUT', ws.keys.admin, '/api/v1/survey-settings', { quietHours: null })),
    ).toMatchObject({
      ...DEFAULT_SETTINGS,
      quietHours: null,
    });
    expect(await ok(call('GET', ws.keys.admin, '/api/v1/survey-settings'))).toMatchObject({
      ...DEFAULT_SETTINGS,
      quietHours: null,
    });
  });

  test('"***" for a credential that was never stored leaves it unset', async () => {
    const ws = await workspace();
    const sms = { url: 'https://sms.example.com/send', from: 'Touchpoint', authorization: '***' };
    const answer = await ok<Json>(call('PUT', ws.keys.admin, '/api/v1/survey-settings', { sms }));
    expect(answer.sms).toEqual({ url: sms.url, from: sms.from });
    expect((await storedSurveySettings(ws)).sms).toEqual({ url: sms.url, from: sms.from });
  });

  const BAD_SETTINGS: Array<{ what: string; body: Json; paths: string[] }> = [
    {
      what: 'an unknown time zone',
      body: { defaultTimeZone: 'Mars/Olympus_Mons' },
      paths: ['defaultTimeZone'],
    },
    {
      what: 'times that are not HH:MM',
      body: { quietHours: { start: '25:00', end: '8:00' } },
      paths: ['quietHours.start', 'quietHours.end'],
    },
    { what: 'an unknown field', body: { colour: 'blue' }, paths: ['colour'] },
    { what: 'negative days', body: { minDaysBetweenInvitations: -1 }, paths: ['minDaysBetweenInvitations'] },
    { what: 'fractional days', body: { touchpointQuarantineDays: 1.5 }, paths: ['touchpointQuarantineDays'] },
    { what: 'too many hours', body: { duplicateWindowHours: 169 }, paths: ['duplicateWindowHours'] },
    {
      what: 'a provider URL that is not http(s)',
      body: { sms: { url: 'ftp://sms.example.com', from: 'x' } },
      paths: ['sms.url'],
    },
    {
      what: 'a short webhook secret',
      body: { webhook: { url: 'https://hooks.example.com', secret: 'short' } },
      paths: ['webhook.secret'],
    },
    {
      what: 'several problems',
      body: { minDaysBetweenInvitations: -1, defaultTimeZone: 'Nowhere', mood: 'calm' },
      paths: ['minDaysBetweenInvitations', 'defaultTimeZone', 'mood'],
    },
  ];

  test.each(BAD_SETTINGS)('PUT /api/v1/survey-settings with $what → 400 at $paths', async (bad) => {
    const ws = await workspace();
    await ok(call('PUT', ws.keys.admin, '/api/v1/survey-settings', { minDaysBetweenInvitations: 5 }));
    const error = expectError(
      await call('PUT', ws.keys.admin, '/api/v1/survey-settings', bad.body),
      400,
      'validation_failed',
    );
    expect(sorted(paths(error))).toEqual(sorted(bad.paths));
    // Nothing was changed.
    expect(await ok(call('GET', ws.keys.admin, '/api/v1/survey-settings'))).toMatchObject({
      ...DEFAULT_SETTINGS,
      minDaysBetweenInvitations: 5,
    });
  });

  test('PUT /api/v1/survey-settings with a body that is not an object → 400', async () => {
    const ws = await workspace();
    for (const text of ['null', '"quiet"', '42', '[1]']) {
      expectError(
        await app().inject({
          method: 'PUT',
          url: '/api/v1/survey-settings',
          headers: { ...auth(ws.keys.admin), 'content-type': 'application/json' },
          payload: text,
        }),
        400,
      );
    }
  });

  test('survey settings are for admin keys only', async () => {
    const ws = await workspace();
    for (const key of [ws.keys.read, ws.keys.write]) {
      expectError(await call('GET', key, '/api/v1/survey-settings'), 403, 'forbidden');
      expectError(await call('PUT', key, '/api/v1/survey-settings', {}), 403, 'forbidden');
    }
  });

  // ---------------------------------------------------------------- opt-outs

  test('opt-outs: record, idempotent, list, withdraw', async () => {
    const ws = await workspace();
    await customer(ws, 'C 1/ä');
    const url = `/api/v1/customers/${encodeURIComponent('C 1/ä')}/opt-outs`;
    expect(await ok<OptOutBody[]>(call('GET', ws.keys.read, url))).toEqual([]);

    const first = await ok<OptOutBody[]>(call('POST', ws.keys.write, url, { channel: 'email' }));
    expect(first).toEqual([{ channel: 'email', source: 'api', createdAt: expect.any(String) }]);
    const again = await ok<OptOutBody[]>(call('POST', ws.keys.write, url, { channel: 'email' }));
    expect(again).toEqual(first);

    const both = await ok<OptOutBody[]>(call('POST', ws.keys.admin, url, { channel: 'all' }));
    expect(both.map((o) => o.channel)).toEqual(['all', 'email']);
    expect(await ok<OptOutBody[]>(call('GET', ws.keys.read, url))).toEqual(both);

    const withdrawn = await ok<OptOutBody[]>(call('DELETE', ws.keys.write, `${url}/email`));
    expect(withdrawn.map((o) => o.channel)).toEqual(['all']);
    expect(await ok<OptOutBody[]>(call('DELETE', ws.keys.write, `${url}/email`))).toEqual(withdrawn);
    expect(await ok<OptOutBody[]>(call('DELETE', ws.keys.write, `${url}/all`))).toEqual([]);
    expect(await ok<OptOutBody[]>(call('GET', ws.keys.read, url))).toEqual([]);
  });

  test('opt-outs: unknown customer → 404, bad channel → 400, read keys cannot write', async () => {
    const ws = await workspace();
    await customer(ws, 'C-1');
    const unknown = '/api/v1/customers/C-404/opt-outs';
    expectError(await call('GET', ws.keys.read, unknown), 404, 'not_found');
    expectError(await call('POST', ws.keys.write, unknown, { channel: 'email' }), 404, 'not_found');
    expectError(await call('DELETE', ws.keys.write, `${unknown}/email`), 404, 'not_found');

    const url = '/api/v1/customers/C-1/opt-outs';
    const bad = expectError(
      await call('POST', ws.keys.write, url, { channel: 'fax' }),
      400,
      'validation_failed',
    );
    expect(paths(bad)).toEqual(['channel']);
    expectError(await call('POST', ws.keys.write, url, {}), 400, 'validation_failed');
    expectError(
      await call('POST', ws.keys.write, url, { channel: 'email', reason: 'spam' }),
      400,
      'validation_failed',
    );
    const badDelete = expectError(
      await call('DELETE', ws.keys.write, `${url}/fax`),
      400,
      'validation_failed',
    );
    expect(paths(badDelete)).toEqual(['params.channel']);

    expectError(await call('POST', ws.keys.read, url, { channel: 'email' }), 403, 'forbidden');
    expectError(await call('DELETE', ws.keys.read, `${url}/email`), 403, 'forbidden');
    expect(await ok<OptOutBody[]>(call('GET', ws.keys.read, url))).toEqual([]);
  });

  // ---------------------------------------------------------------- roles and isolation

  test('roles: read keys read, write keys invite, only admin keys define surveys', async () => {
    const ws = await workspace();
    const survey = await createSurvey(ws);
    await customer(ws, 'C-1');
    const id = survey.id;
    // A read key reads …
    for (const url of [
      '/api/v1/survey-templates',
      '/api/v1/surveys',
      `/api/v1/surveys/${id}`,
      `/api/v1/surveys/${id}/versions/1`,
      `/api/v1/surveys/${id}/triggers`,
      '/api/v1/invitations',
    ]) {
      expectStatus(await call('GET', ws.keys.read, url), 200);
    }
    // … and writes nothing.
    const writes: Array<[Method, string, unknown]> = [
      ['POST', '/api/v1/surveys', { definition: customDefinition() }],
      ['PUT', `/api/v1/surveys/${id}`, { definition: customDefinition() }],
      ['PATCH', `/api/v1/surveys/${id}`, { status: 'paused' }],
      ['POST', `/api/v1/surveys/${id}/triggers`, { channel: 'email' }],
      ['POST', `/api/v1/surveys/${id}/invitations`, { customerId: 'C-1', channel: 'link' }],
    ];
    for (const [method, url, body] of writes) {
      expectError(await call(method, ws.keys.read, url, body), 403, 'forbidden');
    }
    // A write key invites, but does not define surveys or triggers.
    await ok(invite(ws, id, { customerId: 'C-1', channel: 'link' }, ws.keys.write), 201);
    for (const [method, url, body] of writes.slice(0, 4)) {
      expectError(await call(method, ws.keys.write, url, body), 403, 'forbidden');
    }
    // An admin key does everything.
    await ok(invite(ws, id, { customerId: 'C-1', channel: 'email' }, ws.keys.admin), 201);
    expect((await listInvitations(ws)).items).toHaveLength(2);
    expect(await getSurvey(ws, id)).toEqual(survey);
  });

  test('no key or an unknown key → 401', async () => {
    const ws = await workspace();
    const survey = await createSurvey(ws);
    const calls: Array<[Method, string, unknown]> = [
      ['GET', '/api/v1/survey-templates', undefined],
      ['GET', '/api/v1/surveys', undefined],
      ['POST', '/api/v1/surveys', { definition: customDefinition() }],
      ['GET', `/api/v1/surveys/${survey.id}`, undefined],
      ['PATCH', `/api/v1/surveys/${survey.id}`, { status: 'paused' }],
      ['GET', `/api/v1/surveys/${survey.id}/triggers`, undefined],
      ['POST', `/api/v1/surveys/${survey.id}/invitations`, { customerId: 'C-1', channel: 'link' }],
      ['GET', '/api/v1/invitations', undefined],
      ['GET', '/api/v1/survey-settings', undefined],
      ['GET', '/api/v1/customers/C-1/opt-outs', undefined],
    ];
    for (const [method, url, body] of calls) {
      expectError(await call(method, null, url, body), 401, 'unauthorized');
      expectError(await call(method, 'tp_not_a_key', url, body), 401, 'unauthorized');
    }
    expect((await getSurvey(ws, survey.id)).status).toBe('active');
  });

  test('another workspace sees none of the surveys, triggers, invitations or opt-outs', async () => {
    const [ws, other] = await Promise.all([workspace(), workspace()]);
    const survey = await createSurvey(ws);
    await ok(call('POST', ws.keys.admin, `/api/v1/surveys/${survey.id}/triggers`, { channel: 'email' }), 201);
    await customer(ws, 'C-1');
    await customer(other, 'C-1');
    await ok(invite(ws, survey.id, { customerId: 'C-1', channel: 'link' }), 201);
    await ok(call('POST', ws.keys.write, '/api/v1/customers/C-1/opt-outs', { channel: 'sms' }));

    expect(await ok(call('GET', other.keys.read, '/api/v1/surveys'))).toEqual([]);
    for (const url of [`/api/v1/surveys/${survey.id}`, `/api/v1/surveys/${survey.id}/versions/1`]) {
      expectError(await call('GET', other.keys.read, url), 404, 'not_found');
    }
    expectError(
      await call('PUT', other.keys.admin, `/api/v1/surveys/${survey.id}`, { definition: customDefinition() }),
      404,
      'not_found',
    );
    expectError(
      await call('PATCH', other.keys.admin, `/api/v1/surveys/${survey.id}`, { status: 'archived' }),
      404,
      'not_found',
    );
    await expectNoTriggers(other.keys.read, survey.id);
    // The other workspace has a customer C-1 of its own, but not the survey.
    expectError(await invite(other, survey.id, { customerId: 'C-1', channel: 'link' }), 404, 'not_found');
    expect(await listInvitations(other)).toEqual({ items: [], nextCursor: null });
    expect(await listInvitations(other, `surveyId=${survey.id}`)).toEqual({ items: [], nextCursor: null });
    expect(await ok(call('GET', other.keys.read, '/api/v1/customers/C-1/opt-outs'))).toEqual([]);

    // The owner's data is untouched.
    expect(await getSurvey(ws, survey.id)).toEqual(survey);
    expect((await listInvitations(ws)).items).toHaveLength(1);
    expect(
      (await ok<OptOutBody[]>(call('GET', ws.keys.read, '/api/v1/customers/C-1/opt-outs'))).map(
        (o) => o.channel,
      ),
    ).toEqual(['sms']);
  });

  // ---------------------------------------------------------------- OpenAPI

  test('GET /api/v1/openapi.json documents the survey routes under the tag surveys', async () => {
    const res = await app().inject({ method: 'GET', url: '/api/v1/openapi.json' });
    expect(res.statusCode).toBe(200);
    const spec = res.json() as {
      tags: Array<{ name: string }>;
      paths: Record<string, Record<string, { tags?: string[]; summary?: string }>>;
    };
    expect(spec.tags.map((t) => t.name)).toContain('surveys');
    const expected: Array<[string, string[]]> = [
      ['/api/v1/survey-templates', ['get']],
      ['/api/v1/surveys', ['get', 'post']],
      ['/api/v1/surveys/{id}', ['get', 'patch', 'put']],
      ['/api/v1/surveys/{id}/versions/{version}', ['get']],
      ['/api/v1/surveys/{id}/triggers', ['get', 'post']],
      ['/api/v1/survey-triggers/{id}', ['put']],
      ['/api/v1/surveys/{id}/invitations', ['post']],
      ['/api/v1/invitations', ['get']],
      ['/api/v1/survey-settings', ['get', 'put']],
      ['/api/v1/customers/{externalId}/opt-outs', ['get', 'post']],
      ['/api/v1/customers/{externalId}/opt-outs/{channel}', ['delete']],
    ];
    for (const [path, methods] of expected) {
      const item = spec.paths[path];
      expect(item, path).toBeDefined();
      expect(Object.keys(item ?? {}).sort(), path).toEqual(methods);
      for (const method of methods) {
        expect(item?.[method]?.tags, `${method} ${path}`).toEqual(['surveys']);
        expect(item?.[method]?.summary?.length, `${method} ${path}`).toBeGreaterThan(0);
      }
    }
    // The respondent pages are not part of the API.
    expect(Object.keys(spec.paths).some((path) => path.startsWith('/s/'))).toBe(false);
  });
});
