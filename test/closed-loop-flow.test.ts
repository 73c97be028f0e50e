import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { decideRecoveries } from '../src/closed-loop/cases.js';
import { processOutbox } from '../src/closed-loop/processor.js';
import { type App, buildApp } from '../src/server/app.js';
import { Channels } from '../src/surveys/channels.js';
import { describeEachDatabase } from './helpers/databases.js';
import { auth } from './helpers/http.js';
import { startMailbox, type TestMailbox } from './helpers/smtp.js';
import { createTestWorkspace } from './helpers/workspace.js';

// One case's life through the API: a rule, a detractor's feedback, the alert and its case, routing,
// playbook, the workflow, a follow-up e-mail, closing, and the next feedback deciding recovery.

describeEachDatabase('closed loop, end to end', (database) => {
  let app: App;
  let mailbox: TestMailbox;
  let channels: Channels;
  beforeAll(async () => {
    mailbox = await startMailbox();
    channels = new Channels({ url: mailbox.url, from: 'Touchpoint <cx@example.com>' });
    app = await buildApp({ database: database(), channels });
  });
  afterAll(async () => {
    await app.close();
    channels.close();
    await mailbox.close();
  });

  test('a detractor opens a routed case with a playbook; the follow-up, closing and next feedback recover it', async () => {
    const ws = await createTestWorkspace(database().db);
    const admin = auth(ws.keys.admin);
    const call = (method: 'GET' | 'POST' | 'PUT' | 'PATCH', url: string, payload?: unknown) =>
      app.inject({ method, url, headers: admin, payload } as InjectOptions);
    let res = await call('PUT', '/api/v1/closed-loop/settings', {
      teams: { billing: { members: ['ann@example.com', 'bob@example.com'], lead: 'lea@example.com' } },
      touchpointTeams: { billing: 'billing' },
    });
    expect(res.statusCode, res.body).toBe(200);
    res = await call('POST', '/api/v1/alert-rules', {
      name: 'Detractor',
      condition: { field: 'nps', op: 'lte', value: 6 },
      severity: 'high',
      routing: [{ to: 'touchpointTeam' }],
    });
    expect(res.statusCode, res.body).toBe(201);
    const rule = res.json();
    expect(rule.kinds).toEqual(['feedback']);
    res = await call('POST', '/api/v1/playbooks', {
      name: 'Billing recovery',
      match: { touchpoints: ['billing'] },
      steps: ['Call the customer', 'Refund the fee'],
    });
    expect(res.statusCode, res.body).toBe(201);

    await call('POST', '/api/v1/customers', {
      externalId: 'C-1',
      name: 'Carla',
      email: 'carla@example.com',
      value: 20000,
    });
    const now = new Date();
    res = await app.inject({
      method: 'POST',
      url: '/api/v1/feedback',
      headers: auth(ws.keys.write),
      payload: [
        {
          externalId: 'F-1',
          customerId: 'C-1',
          source: 'survey',
          touchpoint: 'billing',
          channel: 'email',
          occurredAt: now.toISOString(),
          nps: 2,
          text: 'billed twice',
        },
        {
          externalId: 'F-2',
          customerId: 'C-1',
          source: 'survey',
          touchpoint: 'billing',
          channel: 'email',
          occurredAt: now.toISOString(),
          nps: 9,
        },
      ],
    });
    expect(res.statusCode, res.body).toBe(200);
    const processed = await processOutbox(database().db, new Date(), { workspaceId: ws.id });
    // The promoter's answer cannot match the rule: only the detractor's is queued.
    expect(processed).toEqual({ processed: 1, alerts: 1, casesOpened: 1 });
    expect(await processOutbox(database().db, new Date(), { workspaceId: ws.id })).toEqual({
      processed: 0,
      alerts: 0,
      casesOpened: 0,
    });

    res = await call('GET', '/api/v1/cases');
    expect(res.statusCode, res.body).toBe(200);
    const list = res.json();
    expect(list.items).toHaveLength(1);
    const opened = list.items[0];
    expect(opened).toMatchObject({
      status: 'open',
      severity: 'high',
      priority: 'p1',
      priorityScore: 9,
      owner: 'ann@example.com',
      team: 'billing',
      touchpoint: 'billing',
      customer: { externalId: 'C-1', name: 'Carla' },
      alertCount: 1,
    });
    res = await call('GET', `/api/v1/cases/${opened.id}`);
    const detail = res.json();
    expect(detail.steps.map((step: { text: string }) => step.text)).toEqual([
      'Call the customer',
      'Refund the fee',
    ]);
    expect(detail.alerts).toHaveLength(1);
    expect(detail.alerts[0].record).toEqual({ kind: 'feedback', externalId: 'F-1' });

    res = await call('PATCH', `/api/v1/cases/${opened.id}`, { status: 'closed' });
    expect(res.statusCode, res.body).toBe(409);
    res = await call('PATCH', `/api/v1/cases/${opened.id}`, {
      status: 'in_progress',
      rootCause: 'system',
      actor: 'ann@example.com',
    });
    expect(res.statusCode, res.body).toBe(200);
    res = await call('PUT', `/api/v1/cases/${opened.id}/steps/1`, { done: true });
    expect(res.statusCode, res.body).toBe(200);
    res = await call('POST', `/api/v1/cases/${opened.id}/messages`, {
      channel: 'email',
      template: 'apology',
    });
    expect(res.statusCode, res.body).toBe(201);
    const mails = await mailbox.waitFor(1);
    expect(mails.some((mail) => mail.subject === 'We are sorry about your recent experience')).toBe(true);
    res = await call('GET', `/api/v1/cases/${opened.id}`);
    expect(res.json().status).toBe('customer_contacted');
    res = await call('PATCH', `/api/v1/cases/${opened.id}`, { status: 'resolved' });
    expect(res.statusCode, res.body).toBe(200);
    res = await call('PATCH', `/api/v1/cases/${opened.id}`, { status: 'closed' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().recovery).toBe('pending');

    // The follow-up is on the customer's timeline.
    const profile = await call('GET', '/api/v1/customers/C-1');
    expect(profile.statusCode, profile.body).toBe(200);
    const followUps = profile
      .json()
      .timeline.items.filter((item: { kind: string }) => item.kind === 'followUp');
    expect(followUps).toEqual([
      expect.objectContaining({
        caseId: opened.id,
        channel: 'email',
        status: 'sent',
        subject: 'We are sorry about your recent experience',
      }),
    ]);

    // Nothing decides recovery yet; the customer's next feedback, neutral, does.
    expect(await decideRecoveries(database().db, new Date(), { workspaceId: ws.id })).toBe(0);
    const later = new Date(Date.now() + 60_000).toISOString();
    res = await app.inject({
      method: 'POST',
      url: '/api/v1/feedback',
      headers: auth(ws.keys.write),
      payload: { externalId: 'F-3', customerId: 'C-1', source: 'survey', occurredAt: later, nps: 8 },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(await decideRecoveries(database().db, new Date(), { workspaceId: ws.id })).toBe(1);
    res = await call('GET', `/api/v1/cases/${opened.id}`);
    expect(res.json()).toMatchObject({ recovery: 'recovered', recoveryReason: 'next feedback: rated 3' });
    res = await call('GET', '/api/v1/cases/recovery?by=rootCause');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().rows).toEqual([
      {
        key: 'system',
        label: 'system',
        closed: 1,
        recovered: 1,
        notRecovered: 0,
        unknown: 0,
        pending: 0,
        recoveryRate: 1,
      },
    ]);
    res = await call('GET', '/api/v1/playbooks');
    expect(res.json()[0].effectiveness).toMatchObject({
      cases: 1,
      resolved: 1,
      recovered: 1,
      recoveryRate: 1,
    });
  });
});
