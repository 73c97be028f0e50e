import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { describeEachDatabase } from '../../test/helpers/databases.js';
import { insertMany, sqlLiteral } from './prepared.js';

const COLUMNS = {
  n: 'bigint',
  label: 'text',
  tags: 'text',
  flag: 'boolean',
  at: 'timestamptz',
  doc: 'jsonb',
  score: 'double precision',
};

/** Text that array and string literals must carry unchanged. */
const TRICKY = [
  '',
  'NULL',
  'null',
  ' padded ',
  'a,b',
  '{braces}',
  '"quoted"',
  "it's",
  'back\\slash',
  '\\"',
  'line\nbreak\ttab',
  'ünïcödé ✓ 😀',
  "'); DROP TABLE x; --",
];

test('sqlLiteral: numbers, booleans, strings, dates, arrays and objects; non-finite numbers refused', () => {
  expect(sqlLiteral(null)).toBe('NULL');
  expect(sqlLiteral(42)).toBe('42');
  expect(sqlLiteral(false)).toBe('false');
  expect(sqlLiteral("it's")).toBe("'it''s'");
  expect(sqlLiteral(new Date('2026-01-02T03:04:05.678Z'))).toBe("'2026-01-02T03:04:05.678Z'");
  expect(sqlLiteral([1, null, 3])).toBe("'{1,NULL,3}'");
  expect(sqlLiteral(['a"b', 'c\\d', "e'f", 'NULL'])).toBe(`'{"a\\"b","c\\\\d","e''f","NULL"}'`);
  expect(sqlLiteral([])).toBe("'{}'");
  expect(sqlLiteral({ a: "it's" })).toBe(`'{"a":"it''s"}'`);
  expect(() => sqlLiteral(Number.NaN)).toThrow('non-finite');
  expect(() => sqlLiteral([Number.POSITIVE_INFINITY])).toThrow('non-finite');
  expect(() => sqlLiteral([{}])).toThrow('array element');
});

describeEachDatabase('insertMany', (database, kind) => {
  const db = () => database().db;
  const table = `tp_test_insert_many_${kind}_${process.pid}`;
  beforeAll(async () => {
    await sql
      .raw(
        `CREATE TABLE ${table} (id bigint GENERATED ALWAYS AS IDENTITY, n bigint, label text, tags text,
          flag boolean, at timestamptz, doc jsonb, score double precision)`,
      )
      .execute(db());
  });
  afterAll(async () => {
    await sql.raw(`DROP TABLE IF EXISTS ${table}`).execute(db());
  });

  const readBack = async (ids: number[]) =>
    (
      await sql<Record<string, unknown>>`SELECT n, label, tags, flag, at, doc, score FROM ${sql.table(table)}
        WHERE id = ANY (${ids}::bigint[]) ORDER BY id`.execute(db())
    ).rows;

  test('every value arrives unchanged, in the order given, whatever the number of rows', async () => {
    const rows = TRICKY.map((text, i) => ({
      n: i % 3 === 0 ? null : 9_007_199_254_740 + i,
      label: text,
      tags: i % 4 === 0 ? null : `${text}|${i}`,
      flag: i % 2 === 0,
      at: new Date(Date.UTC(2026, 0, 1, 0, 0, i, 5)),
      doc: JSON.stringify({ text, list: [text, i], nested: { quote: '"', backslash: '\\' } }),
      score: i / 7,
    }));
    for (const slice of [rows.slice(0, 1), rows]) {
      const inserted = await insertMany<{ id: number; label: string }>(
        table,
        COLUMNS,
        slice,
        sql`RETURNING id, label`,
      ).execute(db());
      expect(inserted.rows.map((row) => row.label)).toEqual(slice.map((row) => row.label));
      const stored = await readBack(inserted.rows.map((row) => row.id));
      expect(stored).toEqual(
        slice.map((row) => ({
          n: row.n,
          label: row.label,
          tags: row.tags,
          flag: row.flag,
          at: row.at,
          doc: JSON.parse(row.doc),
          score: row.score,
        })),
      );
    }
  });

  test('any text in any position round-trips (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.option(fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => !s.includes('\0'))), {
          minLength: 1,
          maxLength: 6,
        }),
        async (texts) => {
          const inserted = await insertMany<{ id: number }>(
            table,
            { label: 'text', doc: 'jsonb' },
            texts.map((label) => ({ label, doc: JSON.stringify({ label }) })),
            sql`RETURNING id`,
          ).execute(db());
          const stored = await readBack(inserted.rows.map((row) => row.id));
          expect(stored.map((row) => row.label)).toEqual(texts);
          expect(stored.map((row) => (row.doc as { label: string | null }).label)).toEqual(texts);
        },
      ),
      { numRuns: 60 },
    );
  });
});
