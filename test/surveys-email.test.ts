import { afterAll, beforeAll, expect, test } from 'vitest';
import { Channels } from '../src/surveys/channels.js';
import { dispatchDue, type SurveyRuntime } from '../src/surveys/dispatch.js';
import { describeEachDatabase } from './helpers/databases.js';
import { auth, useApp } from './helpers/http.js';
import { linksOf, startMailbox, type TestMailbox } from './helpers/smtp.js';
import { createTestWorkspace } from './helpers/workspace.js';

const PUBLIC_URL = 'http://survey.test';

let mailbox: TestMailbox;
beforeAll(async () => {
  mailbox = await startMailbox();
});
afterAll(async () => {
  await mailbox.close();
});

/** The path of a link to this server's survey pages. */
const pathOf = (url: string) => {
  expect(url.startsWith(`${PUBLIC_URL}/s/`), url).toBe(true);
  return url.slice(PUBLIC_URL.length);
};

describeEachDatabase('survey by e-mail, end to end', (database) => {
  const app = useApp(database);
  let runtime: SurveyRuntime;
  beforeAll(() => {
    runtime = {
      db: database().db,
      channels: new Channels({ url: mailbox.url, from: 'CX <cx@example.com>' }),
      publicUrl: PUBLIC_URL,
    };
  });
  afterAll(() => runtime.channels.close());

  test('an interaction triggers an e-mail; one click scores, the page asks why, the answer lands on the profile', async () => {
    const ws = await createTestWorkspace(database().db);
    const admin = auth(ws.keys.admin);
    const put = await app().inject({
      method: 'PUT',
      url: '/api/v1/survey-settings',
      headers: admin,
      payload: { quietHours: null },
    });
    expect(put.statusCode, put.body).toBe(200);
    const created = await app().inject({
      method: 'POST',
      url: '/api/v1/surveys',
      headers: admin,
      payload: { template: 'transactional-nps', languages: ['en', 'de'] },
    });
    expect(created.statusCode, created.body).toBe(201);
    const survey = created.json() as { id: number; definition: { questions: { id: string }[] } };
    const trigger = await app().inject({
      method: 'POST',
      url: `/api/v1/surveys/${survey.id}/triggers`,
      headers: admin,
      payload: { channel: 'email', match: { channel: 'phone', touchpoint: ['billing', 'moving'] } },
    });
    expect(trigger.statusCode, trigger.body).toBe(201);

    const now = new Date();
    const ingest = (type: string, payload: object) =>
      app().inject({ method: 'POST', url: `/api/v1/${type}`, headers: admin, payload });
    expect(
      (
        await ingest('customers', {
          externalId: 'C-1',
          email: 'anna@example.com',
          name: 'Anna',
          locale: 'de-AT',
        })
      ).statusCode,
    ).toBe(200);
    const interactions = await ingest('interactions', [
      {
        externalId: 'I-1',
        customerId: 'C-1',
        channel: 'phone',
        touchpoint: 'billing',
        occurredAt: now.toISOString(),
      },
      {
        externalId: 'I-2',
        customerId: 'C-1',
        channel: 'chat',
        touchpoint: 'billing',
        occurredAt: now.toISOString(),
      },
    ]);
    expect(interactions.statusCode, interactions.body).toBe(200);

    const listed = await app().inject({ method: 'GET', url: '/api/v1/invitations', headers: admin });
    const items = (listed.json() as { items: { id: string; status: string; interactionId: string }[] }).items;
    expect(items.map((i) => [i.status, i.interactionId])).toEqual([['scheduled', 'I-1']]);

    const result = await dispatchDue(runtime, new Date(), { workspaceId: ws.id });
    expect(result).toMatchObject({ sent: 1, suppressed: 0 });
    const [mail] = (await mailbox.waitFor(1)).filter((m) => m.to && JSON.stringify(m.to).includes('anna@'));
    expect(mail).toBeDefined();
    if (!mail) return;
    mailbox.messages.splice(mailbox.messages.indexOf(mail), 1);
    expect(mail.subject).toMatch(/[äöüß]|Ihr|Ihre|Wie/); // German: the customer's locale is de-AT
    expect(mail.text).toContain(`${PUBLIC_URL}/s/`);
    const scoreLinks = linksOf(mail).filter((link) => /\/score\/\d+$/.test(link));
    expect(scoreLinks).toHaveLength(11);

    // One click on "3" records the score and opens the rest of the survey.
    const click = await app().inject({ method: 'GET', url: pathOf(scoreLinks[3] as string) });
    expect(click.statusCode).toBe(303);
    const surveyPath = click.headers.location as string;
    const page = await app().inject({ method: 'GET', url: surveyPath });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toContain('<textarea');
    const question = /name="question" value="([^"]+)"/.exec(page.body)?.[1] as string;

    const feedbackId = `survey-${items[0]?.id}`;
    const early = await app().inject({
      method: 'GET',
      url: `/api/v1/feedback/${feedbackId}`,
      headers: admin,
    });
    expect(early.statusCode, early.body).toBe(200);
    expect(early.json()).toMatchObject({
      nps: 3,
      interactionId: 'I-1',
      customerId: 'C-1',
      channel: 'phone',
      touchpoint: 'billing',
    });

    const answer = await app().inject({
      method: 'POST',
      url: surveyPath,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ question, answer: 'Zu lange Wartezeit' }).toString(),
    });
    expect(answer.statusCode, answer.body).toBe(200);
    const feedback = (
      await app().inject({ method: 'GET', url: `/api/v1/feedback/${feedbackId}`, headers: admin })
    ).json();
    expect(feedback).toMatchObject({ nps: 3, text: 'Zu lange Wartezeit', source: 'survey' });

    const reuse = await app().inject({ method: 'GET', url: surveyPath });
    expect(reuse.statusCode).toBe(410);
    const forged = await app().inject({ method: 'GET', url: `${surveyPath.slice(0, -3)}AAA` });
    expect(forged.statusCode).toBe(404);

    const done = await app().inject({
      method: 'GET',
      url: `/api/v1/invitations?surveyId=${survey.id}`,
      headers: admin,
    });
    expect((done.json() as { items: Record<string, unknown>[] }).items[0]).toMatchObject({
      status: 'sent',
      completedAt: expect.any(String),
      startedAt: expect.any(String),
      openedAt: expect.any(String),
    });
  });
  test('an expired link is refused on every page: question, answer, one-click score', async () => {
    const ws = await createTestWorkspace(database().db);
    const admin = auth(ws.keys.admin);
    const survey = (
      await app().inject({
        method: 'POST',
        url: '/api/v1/surveys',
        headers: admin,
        payload: { template: 'transactional-nps' },
      })
    ).json() as { id: number };
    await app().inject({
      method: 'POST',
      url: '/api/v1/customers',
      headers: admin,
      payload: { externalId: 'C-X' },
    });
    const link = (
      await app().inject({
        method: 'POST',
        url: `/api/v1/surveys/${survey.id}/invitations`,
        headers: admin,
        payload: { customerId: 'C-X', channel: 'link' },
      })
    ).json() as { id: string; url: string };
    const path = link.url.slice('http://localhost:3000'.length);
    expect((await app().inject({ method: 'GET', url: path })).statusCode).toBe(200);
    await database()
      .db.updateTable('invitation')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('public_id', '=', link.id)
      .execute();
    const page = await app().inject({ method: 'GET', url: path });
    expect(page.statusCode).toBe(410);
    expect(page.body).toMatch(/expired/i);
    const post = await app().inject({
      method: 'POST',
      url: path,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'question=nps&answer=9',
    });
    expect(post.statusCode).toBe(410);
    expect((await app().inject({ method: 'GET', url: `${path}/score/9` })).statusCode).toBe(410);
    const feedback = await app().inject({
      method: 'GET',
      url: `/api/v1/feedback/survey-${link.id}`,
      headers: admin,
    });
    expect(feedback.statusCode).toBe(404);
  });
});
