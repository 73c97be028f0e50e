import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { Db } from '../src/db/index.js';
import type { EncounterKind } from '../src/records/read-records.js';
import { readRecord } from '../src/records/read-records.js';
import { getWorkspace } from '../src/workspace/workspaces.js';
import {
  type CliResult,
  createPostgresDatabase,
  type Env,
  killChildren,
  removeTempDirs,
  runCli,
  tempDir,
  templateDataDir,
  withDatabase,
} from './helpers/cli.js';
import { postgresUrl } from './helpers/databases.js';

/** `touchpoint import` end to end: files in a temp directory, the real command line, the stored records. */

afterEach(killChildren);
afterAll(removeTempDirs);

const write = (dir: string, name: string, content: string): string => {
  const file = join(dir, name);
  writeFileSync(file, content);
  return file;
};

const importFile = (file: string, type: string, place: { data?: string; env?: Env }, ...extra: string[]) =>
  runCli(['import', file, '--type', type, ...(place.data ? ['--data', place.data] : []), ...extra], {
    env: place.env,
  });

/** The summary line's numbers: `Imported 3 rows of … (…): 3 created, 0 updated, 0 unchanged`. */
const summaryOf = (result: CliResult) => {
  const match =
    /Imported ([\d,]+) rows of (\w+) from .+ in [\d.]+s \([\d,]+ rows\/s\): ([\d,]+) created, ([\d,]+) updated, ([\d,]+) unchanged/.exec(
      result.stdout,
    );
  if (!match) throw new Error(`no summary line in:\n${result.stdout}\n${result.stderr}`);
  const n = (text: string | undefined) => Number((text ?? '').replace(/,/g, ''));
  return {
    rows: n(match[1]),
    type: match[2],
    created: n(match[3]),
    updated: n(match[4]),
    unchanged: n(match[5]),
  };
};

/** A small RFC 4180 reader for the rejects file (quoted fields, doubled quotes, newlines inside quotes). */
const readCsv = (text: string): string[][] => {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
};

/** The rejects file as {line, errors, values}; the header row checked on the way. */
const readRejects = (file: string, columns: string[]) => {
  const [header, ...rows] = readCsv(readFileSync(`${file}.rejects.csv`, 'utf8'));
  expect(header).toEqual(['line', 'errors', ...columns]);
  return rows.map(([line, errors, ...values]) => ({ line: Number(line), errors: errors ?? '', values }));
};

type Target = { data: string } | { url: string };

/** Reads records the way the API returns them, from the database the CLI wrote (after it exited). */
const records = async <T>(target: Target, body: (read: Reader) => Promise<T>): Promise<T> =>
  withDatabase(target, async ({ db }) => {
    const workspace = await getWorkspace(db, 'default');
    return body(reader(db, workspace.id));
  });

type Reader = ReturnType<typeof reader>;
const reader = (db: Db, workspaceId: number) => ({
  db,
  workspaceId,
  one: <K extends EncounterKind>(kind: K, externalId: string) =>
    readRecord(db, workspaceId, kind, externalId),
  exists: async (kind: EncounterKind, externalId: string) =>
    readRecord(db, workspaceId, kind, externalId).then(
      () => true,
      () => false,
    ),
  customer: (externalId: string) =>
    db
      .selectFrom('customer')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('external_id', '=', externalId)
      .executeTakeFirst(),
});

const NOT_A_BAR = /[\r█░▓▒]/;
const PROGRESS_LINE =
  /^Importing (\w+): ([\d,]+) rows \((\d+)%\), [\d,]+ rows\/s, ETA \S+, ([\d,]+) rejected$/;

describe('touchpoint import on the embedded database', () => {
  test('CSV with a header and --map: typed values, answers.X; summary; the same file again is all unchanged', async () => {
    const dir = tempDir();
    const data = templateDataDir();
    const file = write(
      dir,
      'feedback.csv',
      [
        'externalId,Customer ID,occurredAt,NPS,csat,Inflight wifi service,answers.seat,answers.recommend,touchpoint,channel,source,text',
        'F-1,C-1,2026-03-01,9,5,4,3.5,yes,billing,Phone,survey,Great',
        'F-2,C-2,2026-03-02T14:05:00+02:00,3,1,1,2,no,billing,EMAIL,Complaint,Bad',
        'F-3,C-1,2026-03-03T08:00:00Z,,4,5,,true,delivery,web,review,',
        '',
      ].join('\n'),
    );
    const map = ['--map', 'Customer ID=customerId,Inflight wifi service=answers.wifi'];

    const first = await importFile(file, 'feedback', { data }, ...map);
    expect(first.code, first.stderr).toBe(0);
    expect(summaryOf(first)).toEqual({ rows: 3, type: 'feedback', created: 3, updated: 0, unchanged: 0 });
    expect(first.stdout).toContain('2 customers created from references');
    expect(first.stdout).toContain('No rows rejected.');
    expect(existsSync(`${file}.rejects.csv`)).toBe(false);
    expect(first.stderr).not.toContain('Ignoring columns');
    // Not a terminal: plain progress lines, no bar.
    const progress = first.stderr.split('\n').filter((line) => line.startsWith('Importing'));
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toMatch(PROGRESS_LINE);
    expect(progress.at(-1)).toContain('3 rows (100%)');
    expect(first.stderr).not.toMatch(NOT_A_BAR);

    const second = await importFile(file, 'feedback', { data }, ...map);
    expect(second.code, second.stderr).toBe(0);
    expect(summaryOf(second)).toEqual({ rows: 3, type: 'feedback', created: 0, updated: 0, unchanged: 3 });
    expect(second.stdout).not.toContain('customers created');

    await records({ data }, async (read) => {
      expect(await read.one('feedback', 'F-1')).toMatchObject({
        customerId: 'C-1',
        occurredAt: '2026-03-01T00:00:00.000Z',
        nps: 9,
        csat: 5,
        channel: 'phone',
        source: 'survey',
        touchpoint: 'billing',
        text: 'Great',
        answers: { wifi: 4, seat: 3.5, recommend: true },
      });
      expect(await read.one('feedback', 'F-2')).toMatchObject({
        customerId: 'C-2',
        occurredAt: '2026-03-02T12:05:00.000Z',
        nps: 3,
        channel: 'email',
        source: 'complaint',
        answers: { wifi: 1, seat: 2, recommend: false },
      });
      const f3 = await read.one('feedback', 'F-3');
      expect(f3).toMatchObject({
        nps: null,
        csat: 4,
        text: null,
        source: 'review',
        answers: { wifi: 5, recommend: true },
      });
      expect(f3.answers).not.toHaveProperty('seat');
    });
  });

  test('interactions CSV: numbers, booleans in every spelling, ISO dates and attributes.X', async () => {
    const dir = tempDir();
    const data = templateDataDir();
    const spellings = ['yes', 'no', 'true', 'false', '1', '0', 'Y', 'N', 'TRUE', 'No'];
    const expected = [true, false, true, false, true, false, true, false, true, false];
    const file = write(
      dir,
      'interactions.csv',
      [
        'externalId,customerId,channel,touchpoint,occurredAt,waitSeconds,transfers,resolved,attributes.vip,attributes.tier,attributes.score',
        ...spellings.map(
          (resolved, i) =>
            `I-${i},C-${i % 3},phone,billing,2026-03-0${i % 9 === 0 ? 1 : (i % 9) + 1}T10:15:30.250+01:00,${75.5 + i},${i % 4},${resolved},${i % 2 === 0 ? 'yes' : 'No'},gold,${i}.5`,
        ),
      ].join('\r\n'),
    );
    const result = await importFile(file, 'interactions', { data });
    expect(result.code, result.stderr).toBe(0);
    expect(summaryOf(result)).toMatchObject({ rows: 10, created: 10 });

    await records({ data }, async (read) => {
      for (let i = 0; i < spellings.length; i++) {
        const interaction = await read.one('interaction', `I-${i}`);
        expect(interaction, `I-${i} resolved=${spellings[i]}`).toMatchObject({
          customerId: `C-${i % 3}`,
          channel: 'phone',
          waitSeconds: 75.5 + i,
          transfers: i % 4,
          resolved: expected[i],
          attributes: { vip: i % 2 === 0, tier: 'gold', score: i + 0.5 },
        });
      }
      expect((await read.one('interaction', 'I-0')).occurredAt).toBe('2026-03-01T09:15:30.250Z');
      expect((await read.one('interaction', 'I-4')).occurredAt).toBe('2026-03-05T09:15:30.250Z');
    });
  });

  test('rows with bad values go to FILE.rejects.csv with line and reason, the others are imported; exit 2, then 0', async () => {
    const dir = tempDir();
    const data = templateDataDir();
    const columns = ['externalId', 'customerId', 'channel', 'occurredAt', 'transfers', 'resolved'];
    const good = ['R-1,C-1,phone,2026-03-01,1,yes', 'R-6,C-2,chat,2026-03-03,0,true'];
    const file = write(
      dir,
      'interactions.csv',
      [
        columns.join(','),
        good[0],
        'R-2,C-1,pigeon,2026-03-01,0,no',
        'R-3,C-1,phone,yesterday,0,no',
        'R-4,C-1,phone,2026-03-01,1.5,maybe',
        'R-5,C-1,phone,2026-03-02,0,no,extra',
        good[1],
        '',
      ].join('\n'),
    );
    const result = await importFile(file, 'interactions', { data });
    expect(result.code, result.stdout + result.stderr).toBe(2);
    expect(summaryOf(result)).toMatchObject({ rows: 6, created: 2, updated: 0, unchanged: 0 });
    expect(result.stdout).toContain(`4 rows rejected; see ${file}.rejects.csv`);
    const progress = result.stderr.split('\n').filter((line) => line.startsWith('Importing'));
    expect(progress.at(-1)).toMatch(PROGRESS_LINE);
    expect(progress.at(-1)).toMatch(/, 4 rejected$/);

    const rejects = readRejects(file, columns);
    expect(rejects.map((r) => r.line)).toEqual([3, 4, 5, 6]);
    expect(rejects.map((r) => r.values[0])).toEqual(['R-2', 'R-3', 'R-4', 'R-5']);
    expect(rejects[0]?.values).toEqual(['R-2', 'C-1', 'pigeon', '2026-03-01', '0', 'no']);
    expect(rejects[0]?.errors).toMatch(/^channel: must be one of phone, /);
    expect(rejects[0]?.errors).toContain('"pigeon"');
    expect(rejects[1]?.errors).toMatch(/^occurredAt: must be an ISO 8601/);
    expect(rejects[2]?.errors).toMatch(/transfers: .*1\.5/);
    expect(rejects[2]?.errors).toMatch(/resolved: .*"maybe"/);
    expect(rejects[3]?.errors).toBe('has 7 columns, the header has 6');
    expect(rejects[3]?.values).toEqual(['R-5', 'C-1', 'phone', '2026-03-02', '0', 'no', 'extra']);

    await records({ data }, async (read) => {
      expect(await read.exists('interaction', 'R-1')).toBe(true);
      expect(await read.exists('interaction', 'R-6')).toBe(true);
      for (const id of ['R-2', 'R-3', 'R-4', 'R-5']) expect(await read.exists('interaction', id)).toBe(false);
    });

    // Fixed: the file imports cleanly, exit 0, and the old rejects file is gone.
    writeFileSync(
      file,
      [
        columns.join(','),
        good[0],
        'R-2,C-1,sms,2026-03-01,0,no',
        'R-3,C-1,phone,2026-03-04,0,no',
        good[1],
      ].join('\n'),
    );
    const fixed = await importFile(file, 'interactions', { data });
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(summaryOf(fixed)).toMatchObject({ rows: 4, created: 2, unchanged: 2 });
    expect(fixed.stdout).toContain('No rows rejected.');
    expect(existsSync(`${file}.rejects.csv`)).toBe(false);
  });

  test('a semicolon-delimited CSV with quoted commas', async () => {
    const dir = tempDir();
    const data = templateDataDir();
    const file = write(
      dir,
      'customers.csv',
      [
        'externalId;name;segment;value;lifecycleStage;attributes.note',
        'S-1;"Müller, Anna";small_business;1234.5;Current;"a, b"',
        'S-2;Ben Costa;consumer;-20;renewing;plain',
      ].join('\n'),
    );
    const result = await importFile(file, 'customers', { data });
    expect(result.code, result.stderr).toBe(0);
    expect(summaryOf(result)).toMatchObject({ rows: 2, created: 2 });
    await records({ data }, async (read) => {
      expect(await read.customer('S-1')).toMatchObject({
        name: 'Müller, Anna',
        segment: 'small_business',
        value: 1234.5,
        lifecycle_stage: 'current',
        attributes: { note: 'a, b' },
      });
      expect(await read.customer('S-2')).toMatchObject({
        name: 'Ben Costa',
        value: -20,
        lifecycle_stage: 'renewing',
      });
    });
  });

  test('a quoted field with a comma, quotes and a newline; a bad row after it is reported on its own line', async () => {
    const dir = tempDir();
    const data = templateDataDir();
    const columns = ['externalId', 'customerId', 'occurredAt', 'nps', 'text'];
    const file = write(
      dir,
      'feedback.csv',
      [
        columns.join(','),
        'Q-1,C-1,2026-03-01,2,"Late, and',
        'rude. Said ""sorry"" though"',
        'Q-2,C-1,2026-03-01,11,ok',
        'Q-3,C-1,2026-03-02,10,"fine"',
      ].join('\n'),
    );
    const result = await importFile(file, 'feedback', { data });
    expect(result.code, result.stdout + result.stderr).toBe(2);
    expect(summaryOf(result)).toMatchObject({ rows: 3, created: 2 });
    const rejects = readRejects(file, columns);
    expect(rejects).toHaveLength(1);
    expect(rejects[0]).toMatchObject({ line: 4, values: ['Q-2', 'C-1', '2026-03-01', '11', 'ok'] });
    expect(rejects[0]?.errors).toMatch(/^nps: NPS must be an integer from 0 to 10, got 11$/);
    await records({ data }, async (read) => {
      expect((await read.one('feedback', 'Q-1')).text).toBe('Late, and\nrude. Said "sorry" though');
      expect((await read.one('feedback', 'Q-3')).text).toBe('fine');
    });
  });

  test('an empty file is an error; a header-only file imports nothing', async () => {
    const dir = tempDir();
    const data = templateDataDir();
    const empty = write(dir, 'empty.csv', '');
    const result = await importFile(empty, 'customers', { data });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${empty} is empty`);
    expect(result.stderr).toContain('header row');
    expect(result.stderr).not.toMatch(/\n\s+at /);

    const headerOnly = write(dir, 'header.csv', 'externalId,name,email\n');
    const none = await importFile(headerOnly, 'customers', { data });
    expect(none.code, none.stderr).toBe(0);
    expect(summaryOf(none)).toMatchObject({ rows: 0, created: 0, updated: 0, unchanged: 0 });
    expect(none.stdout).toContain('No rows rejected.');
  });

  test('a missing file: a clear error, exit 1', async () => {
    const file = join(tempDir(), 'nope.csv');
    const result = await importFile(file, 'customers', { data: templateDataDir() });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Cannot read ${file}`);
    expect(result.stderr).toContain('no such file');
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stdout).not.toContain('Imported');
  });

  test('--map naming a missing column or an unknown field: errors listing the columns / fields', async () => {
    const dir = tempDir();
    const data = templateDataDir();
    const file = write(dir, 'feedback.csv', 'externalId,customerId,occurredAt,nps\nF-1,C-1,2026-03-01,9\n');
    const missing = await importFile(file, 'feedback', { data }, '--map', 'Customer Number=customerId');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('"Customer Number"');
    expect(missing.stderr).toContain('Columns: externalId, customerId, occurredAt, nps');
    expect(missing.stdout).not.toContain('Imported');

    const unknown = await importFile(file, 'feedback', { data }, '--map', 'nps=promoterScore');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('"promoterScore" is not a field of feedback');
    expect(unknown.stderr).toMatch(/Fields: .*externalId.*nps.*answers\.X/);

    await records({ data }, async (read) => {
      expect(await read.exists('feedback', 'F-1')).toBe(false);
    });
  });

  test('an unknown --type: an error naming the types, before any database is opened', async () => {
    const dir = tempDir();
    const data = join(dir, 'data');
    const file = write(dir, 'x.csv', 'externalId\nX-1\n');
    const result = await importFile(file, 'complaints', { data });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('complaints');
    expect(result.stderr).toMatch(/customers, interactions, feedback, events/);
    expect(existsSync(data)).toBe(false);
  });

  test('NDJSON: valid lines imported, invalid JSON and invalid records rejected with their reasons', async () => {
    const dir = tempDir();
    const data = templateDataDir();
    const file = write(
      dir,
      'feedback.ndjson',
      [
        '{"externalId":"N-1","customerId":"C-1","occurredAt":"2026-03-01","nps":10,"answers":{"wifi":3}}',
        '{"externalId":"N-2", broken',
        '',
        '[1,2]',
        '{"externalId":"N-3","customerId":"C-1","occurredAt":"2026-03-01","nps":11}',
        '{"externalId":"N-4","customerId":"C-2","occurredAt":"2026-03-02T10:00:00Z","csat":4,"text":"ok","Shoe size":44}',
        '',
      ].join('\n'),
    );
    const result = await importFile(file, 'feedback', { data });
    expect(result.code, result.stdout + result.stderr).toBe(2);
    expect(summaryOf(result)).toMatchObject({ rows: 5, created: 2 });
    expect(result.stderr).toContain('Ignoring columns that match no feedback field: Shoe size');
    const rejects = readRejects(file, ['record']);
    expect(rejects.map((r) => r.line)).toEqual([2, 4, 5]);
    expect(rejects[0]?.errors).toMatch(/^invalid JSON: /);
    expect(rejects[0]?.values).toEqual(['{"externalId":"N-2", broken']);
    expect(rejects[1]?.errors).toBe('each line must be one JSON object');
    expect(rejects[2]?.errors).toMatch(/^nps: NPS must be an integer from 0 to 10, got 11$/);
    await records({ data }, async (read) => {
      expect(await read.one('feedback', 'N-1')).toMatchObject({ nps: 10, answers: { wifi: 3 } });
      expect(await read.one('feedback', 'N-4')).toMatchObject({ csat: 4, text: 'ok', customerId: 'C-2' });
      expect(await read.exists('feedback', 'N-3')).toBe(false);
    });
  });

  test('customers, then interactions and feedback that reference them; blank cells do not erase stored fields', async () => {
    const dir = tempDir();
    const data = templateDataDir();
    const customers = write(
      dir,
      'customers.csv',
      [
        'externalId,name,email,segment,lifecycleStage,personalityType,value,attributes.plan',
        'K-1,Anna Berg,anna@example.com,small_business,Current,Prompt,1500,plus',
        'K-2,Ben Costa,ben@example.com,consumer,new,relationship,200,basic',
      ].join('\n'),
    );
    const interactions = write(
      dir,
      'interactions.csv',
      [
        'externalId,customerId,channel,touchpoint,occurredAt,transfers,resolved',
        'KI-1,K-1,phone,billing,2026-03-01T10:00:00Z,2,no',
        'KI-2,K-2,chat,delivery,2026-03-02T10:00:00Z,0,yes',
      ].join('\n'),
    );
    const feedback = write(
      dir,
      'feedback.csv',
      [
        'externalId,interactionId,occurredAt,nps,text',
        'KF-1,KI-1,2026-03-01T11:00:00Z,2,Transferred twice',
      ].join('\n'),
    );
    const blanks = write(
      dir,
      'customers-update.csv',
      [
        'externalId,name,email,segment,lifecycleStage,personalityType,value,attributes.plan,attributes.region',
        'K-1,,,enterprise,,,,,north',
        'K-2,,  ,,,,,,',
      ].join('\n'),
    );

    const c = await importFile(customers, 'customers', { data });
    expect(c.code, c.stderr).toBe(0);
    expect(summaryOf(c)).toMatchObject({ created: 2 });
    const i = await importFile(interactions, 'interactions', { data });
    expect(i.code, i.stderr).toBe(0);
    expect(summaryOf(i)).toMatchObject({ created: 2 });
    expect(i.stdout).not.toContain('customers created from references');
    const f = await importFile(feedback, 'feedback', { data });
    expect(f.code, f.stderr).toBe(0);
    expect(summaryOf(f)).toMatchObject({ created: 1 });
    expect(f.stdout).not.toContain('customers created from references');
    const u = await importFile(blanks, 'customers', { data });
    expect(u.code, u.stderr).toBe(0);
    expect(summaryOf(u)).toMatchObject({ rows: 2, created: 0, updated: 1, unchanged: 1 });

    await records({ data }, async (read) => {
      expect(await read.customer('K-1')).toMatchObject({
        name: 'Anna Berg',
        email: 'anna@example.com',
        segment: 'enterprise',
        lifecycle_stage: 'current',
        personality_type: 'prompt',
        value: 1500,
        attributes: { plan: 'plus', region: 'north' },
      });
      expect(await read.customer('K-2')).toMatchObject({
        name: 'Ben Costa',
        email: 'ben@example.com',
        segment: 'consumer',
        lifecycle_stage: 'new',
        personality_type: 'relationship',
        value: 200,
        attributes: { plan: 'basic' },
      });
      const count = await read.db
        .selectFrom('customer')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('workspace_id', '=', read.workspaceId)
        .executeTakeFirstOrThrow();
      expect(Number(count.n)).toBe(2);
      expect(await read.one('interaction', 'KI-1')).toMatchObject({
        customerId: 'K-1',
        atEncounter: { segment: 'small_business', lifecycleStage: 'current', personalityType: 'prompt' },
      });
      expect(await read.one('feedback', 'KF-1')).toMatchObject({
        customerId: 'K-1',
        interactionId: 'KI-1',
        channel: 'phone',
        touchpoint: 'billing',
        nps: 2,
        atEncounter: { segment: 'small_business' },
      });
    });
  });

  test('progress on a non-terminal: plain lines with rows, rows/s and ETA, no bar', async () => {
    const dir = tempDir();
    const data = templateDataDir();
    const rows = Array.from(
      { length: 3000 },
      (_, i) => `E-${i},C-${i % 50},purchase,2026-0${(i % 9) + 1}-15,${(i % 100) + 0.99}`,
    );
    const file = write(
      dir,
      'events.csv',
      ['externalId,customerId,type,occurredAt,amount', ...rows].join('\n'),
    );
    const result = await importFile(file, 'events', { data });
    expect(result.code, result.stderr).toBe(0);
    expect(summaryOf(result)).toMatchObject({ rows: 3000, created: 3000 });
    expect(result.stdout).toContain('50 customers created from references');
    expect(result.stderr).not.toMatch(NOT_A_BAR);
    const lines = result.stderr.split('\n').filter((line) => line.startsWith('Importing'));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(PROGRESS_LINE);
    expect(lines.at(-1)).toContain('3,000 rows (100%)');
  });
});

const pgUrl = postgresUrl();
describe.skipIf(!pgUrl)(
  `touchpoint import on PostgreSQL (DATABASE_URL)${pgUrl ? '' : ' — skipped: no PostgreSQL server; install PostgreSQL (initdb, pg_ctl) or set TEST_DATABASE_URL'}`,
  () => {
    let database: Awaited<ReturnType<typeof createPostgresDatabase>> | undefined;
    beforeAll(async () => {
      database = await createPostgresDatabase();
    });
    afterAll(async () => {
      await killChildren();
      await database?.drop();
    });

    test('CSV with --map and rejects, then the same file again: unchanged', async () => {
      const dir = tempDir();
      const url = database?.url as string;
      const env = { DATABASE_URL: url };
      const columns = ['Ref', 'Customer ID', 'When', 'NPS', 'Inflight wifi service'];
      const file = write(
        dir,
        'feedback.csv',
        [
          columns.join(','),
          'P-1,C-1,2026-03-01,9,4',
          'P-2,C-1,2026-03-01,eleven,2',
          'P-3,C-2,2026-03-02T10:00:00Z,0,yes',
        ].join('\n'),
      );
      const map = [
        '--map',
        'Ref=externalId,Customer ID=customerId,When=occurredAt,Inflight wifi service=answers.wifi',
      ];
      const first = await importFile(file, 'feedback', { env }, ...map);
      expect(first.code, first.stdout + first.stderr).toBe(2);
      expect(summaryOf(first)).toMatchObject({ rows: 3, created: 2 });
      const rejects = readRejects(file, columns);
      expect(rejects).toHaveLength(1);
      expect(rejects[0]).toMatchObject({ line: 3 });
      expect(rejects[0]?.errors).toMatch(/^nps: .*"eleven"/);

      const again = await importFile(file, 'feedback', { env }, ...map);
      expect(again.code).toBe(2);
      expect(summaryOf(again)).toMatchObject({ rows: 3, created: 0, updated: 0, unchanged: 2 });

      await records({ url }, async (read) => {
        expect(await read.one('feedback', 'P-1')).toMatchObject({
          nps: 9,
          answers: { wifi: 4 },
          customerId: 'C-1',
        });
        expect(await read.one('feedback', 'P-3')).toMatchObject({ nps: 0, answers: { wifi: true } });
        expect(await read.exists('feedback', 'P-2')).toBe(false);
      });
    });

    test('batches written side by side: a record repeated across batches ends with its last row', async () => {
      const dir = tempDir();
      const url = database?.url as string;
      // 400 rows in batches of 7: ids repeat every 10 rows, so every batch shares ids with the one
      // before it; the value is the row number, so the last row of each id must win.
      const rows = Array.from({ length: 400 }, (_, i) => `R-${i % 10},C-${i % 9},2026-04-01,${i % 11},${i}`);
      const file = write(
        dir,
        'repeat.csv',
        ['externalId,customerId,occurredAt,nps,answers.row', ...rows].join('\n'),
      );
      const result = await importFile(file, 'feedback', { env: { DATABASE_URL: url } }, '--batch-size', '7');
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(summaryOf(result)).toMatchObject({ rows: 400, created: 10 });
      await records({ url }, async (read) => {
        for (let id = 0; id < 10; id++) {
          const last = 390 + id;
          expect(await read.one('feedback', `R-${id}`)).toMatchObject({
            nps: last % 11,
            answers: { row: last },
          });
        }
      });
    });
  },
);
