import { CompiledQuery, sql } from 'kysely';
import type { Db } from '../db/index.js';
import { PREPARED } from '../db/prepared.js';
import { withRetry } from '../db/retry.js';
import { experienceRatingLevel } from '../domain/experience-rating.js';
import type { RecordType } from '../domain/vocabulary.js';
import { isUniqueViolation } from '../errors.js';
import type { CustomerInput, EventInput, FeedbackInput, InteractionInput, RecordInputs } from './schemas.js';
import { timestampMs } from './timestamp-cache.js';
import { recordsWritten } from './written.js';

/** What an upsert did, per record of the batch. */
export interface UpsertSummary {
  /** Records whose externalId was new. */
  created: number;
  /** Records that existed and had different content. */
  updated: number;
  /** Records that existed with the same content (a resent batch). */
  unchanged: number;
  /** Customers created because a record referred to an unknown customer id. */
  customersCreated: number;
}

export const emptySummary = (): UpsertSummary => ({
  created: 0,
  updated: 0,
  unchanged: 0,
  customersCreated: 0,
});

export const addSummaries = (a: UpsertSummary, b: UpsertSummary): UpsertSummary => ({
  created: a.created + b.created,
  updated: a.updated + b.updated,
  unchanged: a.unchanged + b.unchanged,
  customersCreated: a.customersCreated + b.customersCreated,
});

/**
 * One statement shape serves every record type: the batch travels as one jsonb parameter (an array
 * of arrays), is expanded into the input `s`, joined to the customer it refers to, and upserted by
 * `(workspace_id, external_id)`. The `WHERE … IS DISTINCT FROM` clause leaves identical
 * records untouched, so a resent batch writes nothing and is reported as unchanged.
 */
interface UpsertStatement {
  table: 'customer' | 'interaction' | 'feedback' | 'event';
  /** Fields of the JSON records and their PostgreSQL types. */
  input: Record<string, string>;
  /** Target column → expression over the input `s` and joined tables. */
  columns: Record<string, string>;
  /** Columns whose change makes the record "updated"; the others follow along. */
  content: string[];
  /** Joins after the input (LATERAL, so each record costs one index lookup), given where customers come from. */
  joins?: (customer: CustomerSource) => string;
  /** Further CTEs after `s`. */
  with?: string;
  /** Whether records name a customer (customerId) that may have to be created. */
  refersToCustomer: boolean;
}

// Each record travels as a JSON array in the order of `input`: PostgreSQL reads a jsonb array of
// arrays several times faster than objects (no keys) or json (parsed again on every ->>).
const field = (index: number, name: string, type: string) =>
  type === 'text'
    ? `e->>${index} AS ${name}`
    : type === 'jsonb'
      ? `nullif(e->${index}, 'null'::jsonb) AS ${name}`
      : `(e->>${index})::${type} AS ${name}`;

/** What the single statement wrote: [externalId, inserted] per record written, and the customers it created. */
interface SingleResult {
  written: [string, boolean][];
  customers_created: string[];
}

/** A LATERAL join that yields the customer (id and encounter context) named by an external id expression. */
type CustomerSource = (alias: string, externalId: string) => string;

const customerOf: CustomerSource = (alias, externalId) =>
  `LATERAL (SELECT id, lifecycle_stage, personality_type, segment FROM customer WHERE workspace_id = $1 AND external_id = ${externalId} LIMIT 1) ${alias}`;

// In the single statement the referenced customers come from the CTE that also creates them.
const customerFromCte: CustomerSource = (alias, externalId) =>
  `LATERAL (SELECT id, lifecycle_stage, personality_type, segment FROM cust WHERE external_id = ${externalId} LIMIT 1) ${alias}`;

interface Statements {
  /**
   * Creates the referenced customers and upserts the records in one statement (one round trip,
   * atomic without BEGIN/COMMIT). Should a customer it refers to be created by another transaction
   * meanwhile, it is invisible to the statement's snapshot: the statement then fails with TP001 and
   * writes nothing.
   */
  single(workspaceId: number, rows: Record<string, unknown>[]): CompiledQuery<SingleResult>;
  /** Upserts by externalId; returns the rows it inserted or changed. */
  upsert(
    workspaceId: number,
    rows: Record<string, unknown>[],
  ): CompiledQuery<{ id: number; inserted: boolean }>;
  /** Plain insert of records known to be new: no speculative insertion, so about twice as fast. */
  insert(workspaceId: number, rows: Record<string, unknown>[]): CompiledQuery<unknown>;
  /** Which of the given external ids are already stored. */
  existing(workspaceId: number, externalIds: string[]): CompiledQuery<{ external_id: string }>;
}

const buildStatements = (spec: UpsertStatement): Statements => {
  const names = Object.keys(spec.columns);
  const inputNames = ['external_id', ...Object.keys(spec.input)];
  const input = Object.entries({ external_id: 'text', ...spec.input }).map(([name, type], i) =>
    field(i, name, type),
  );
  const head = [
    `WITH s AS MATERIALIZED (SELECT ${input.join(', ')} FROM jsonb_array_elements($2::jsonb) AS e)${spec.with ?? ''}`,
    `INSERT INTO ${spec.table} AS t (workspace_id, external_id, ${names.join(', ')})`,
    `SELECT $1, s.external_id, ${Object.values(spec.columns).join(', ')} FROM s ${spec.joins?.(customerOf) ?? ''}`,
    // A fixed order makes concurrent batches lock rows in the same order (no deadlocks).
    'ORDER BY s.external_id',
  ];
  const onConflict = [
    `ON CONFLICT (workspace_id, external_id) DO UPDATE SET ${names.map((n) => `${n} = excluded.${n}`).join(', ')}, updated_at = now()`,
    `WHERE (${spec.content.map((c) => `t.${c}`).join(', ')}) IS DISTINCT FROM (${spec.content.map((c) => `excluded.${c}`).join(', ')})`,
    'RETURNING t.id, t.external_id, (t.xmax = 0) AS inserted',
  ];
  const upsert = [...head, ...onConflict].join('\n');
  const insert = head.join('\n');
  const single = [
    `WITH s AS MATERIALIZED (SELECT ${input.join(', ')} FROM jsonb_array_elements($2::jsonb) AS e)`,
    ...(spec.refersToCustomer
      ? [
          ', refs AS (SELECT DISTINCT customer_id AS external_id FROM s WHERE customer_id IS NOT NULL)',
          ', stubs AS (INSERT INTO customer AS k (workspace_id, external_id) SELECT $1, external_id FROM refs ORDER BY external_id',
          '  ON CONFLICT (workspace_id, external_id) DO NOTHING',
          '  RETURNING k.id, k.external_id, k.lifecycle_stage, k.personality_type, k.segment)',
          ', cust AS (SELECT * FROM stubs UNION ALL SELECT f.* FROM refs CROSS JOIN LATERAL (SELECT id, external_id,',
          '  lifecycle_stage, personality_type, segment FROM customer WHERE workspace_id = $1 AND external_id = refs.external_id LIMIT 1) f)',
        ]
      : [', stubs AS (SELECT NULL::text AS external_id WHERE false)']),
    spec.with ?? '',
    `, written AS (INSERT INTO ${spec.table} AS t (workspace_id, external_id, ${names.join(', ')})`,
    `  SELECT $1, s.external_id, ${Object.values(spec.columns).join(', ')} FROM s ${spec.joins?.(customerFromCte) ?? ''}`,
    '  ORDER BY s.external_id',
    ...onConflict,
    ')',
    // Always exactly one row, so that every expression (and the check below) is evaluated.
    "SELECT (SELECT coalesce(json_agg(json_build_array(external_id, inserted)), '[]') FROM written) AS written,",
    "  (SELECT coalesce(json_agg(external_id), '[]') FROM stubs) AS customers_created",
    // A customer created by a concurrent transaction after this statement's snapshot is neither
    // created nor found here: the statement then aborts (nothing written) and the batch goes the
    // transactional way.
    ...(spec.refersToCustomer
      ? [
          ", tp_assert((SELECT count(*) FROM refs) = (SELECT count(*) FROM cust), 'a referenced customer appeared concurrently') AS checked",
        ]
      : []),
  ].join('\n');
  // LATERAL … LIMIT 1 keeps this a per-id index probe whatever the table statistics say.
  const existing =
    'SELECT x.external_id FROM jsonb_array_elements_text($2::jsonb) AS x(external_id) CROSS JOIN LATERAL ' +
    `(SELECT 1 FROM ${spec.table} WHERE workspace_id = $1 AND external_id = x.external_id LIMIT 1) AS found`;
  // $1 is the workspace, $2 the batch as JSON.
  const encode = (rows: Record<string, unknown>[]) =>
    JSON.stringify(rows.map((row) => inputNames.map((name) => row[name] ?? null)));
  return {
    single: (workspaceId, rows) =>
      CompiledQuery.raw(PREPARED + single, [workspaceId, encode(rows)]) as CompiledQuery<SingleResult>,
    upsert: (workspaceId, rows) =>
      CompiledQuery.raw(PREPARED + upsert, [workspaceId, encode(rows)]) as CompiledQuery<{
        id: number;
        inserted: boolean;
      }>,
    insert: (workspaceId, rows) => CompiledQuery.raw(PREPARED + insert, [workspaceId, encode(rows)]),
    existing: (workspaceId, ids) =>
      CompiledQuery.raw(PREPARED + existing, [workspaceId, JSON.stringify(ids)]) as CompiledQuery<{
        external_id: string;
      }>,
  };
};

// Timestamps travel as epoch milliseconds: exact, and far cheaper to read than timestamp text.
const OCCURRED_AT = "(timestamptz 'epoch' + s.occurred_at_ms * interval '1 millisecond')";

const snapshot = {
  lifecycle_stage: 'c.lifecycle_stage',
  personality_type: 'c.personality_type',
  segment: 'c.segment',
};

// Customers merge: a field the source leaves out keeps its stored value (bit not set in `present`).
const CUSTOMER_FIELDS = [
  'name',
  'email',
  'phone',
  'locale',
  'segment',
  'lifecycle_stage',
  'personality_type',
  'value',
  'attributes',
] as const;
type CustomerField = (typeof CUSTOMER_FIELDS)[number];
const CUSTOMER_INPUT_KEYS: Record<CustomerField, keyof CustomerInput> = {
  name: 'name',
  email: 'email',
  phone: 'phone',
  locale: 'locale',
  segment: 'segment',
  lifecycle_stage: 'lifecycleStage',
  personality_type: 'personalityType',
  value: 'value',
  attributes: 'attributes',
};
const bit = (name: CustomerField) => 1 << CUSTOMER_FIELDS.indexOf(name);
const keep = (name: CustomerField) =>
  `CASE WHEN s.present & ${bit(name)} <> 0 THEN s.${name} ELSE c.${name} END`;

const upsertCustomers = buildStatements({
  table: 'customer',
  refersToCustomer: false,
  input: {
    present: 'int',
    name: 'text',
    email: 'text',
    phone: 'text',
    locale: 'text',
    segment: 'text',
    lifecycle_stage: 'text',
    personality_type: 'text',
    value: 'numeric',
    attributes: 'jsonb',
  },
  // Lock the stored customers first, so that a concurrent batch cannot slip between read and merge.
  with:
    ', c AS (SELECT cu.* FROM (SELECT external_id FROM s ORDER BY external_id) o CROSS JOIN LATERAL ' +
    '(SELECT * FROM customer WHERE workspace_id = $1 AND external_id = o.external_id LIMIT 1 FOR UPDATE) cu)',
  columns: {
    name: keep('name'),
    email: keep('email'),
    phone: keep('phone'),
    locale: keep('locale'),
    segment: keep('segment'),
    lifecycle_stage: keep('lifecycle_stage'),
    personality_type: `coalesce(${keep('personality_type')}, 'unknown')`,
    value: keep('value'),
    attributes:
      `CASE WHEN s.present & ${bit('attributes')} = 0 THEN coalesce(c.attributes, '{}') ` +
      "WHEN s.attributes IS NULL OR jsonb_typeof(s.attributes) = 'null' THEN '{}' " +
      "ELSE jsonb_strip_nulls(coalesce(c.attributes, '{}') || s.attributes) END",
  },
  content: [...CUSTOMER_FIELDS],
  joins: () => 'LEFT JOIN c ON c.external_id = s.external_id',
});

const upsertInteractions = buildStatements({
  table: 'interaction',
  refersToCustomer: true,
  input: {
    customer_id: 'text',
    channel: 'text',
    touchpoint: 'text',
    occurred_at_ms: 'bigint',
    agent: 'text',
    team: 'text',
    wait_seconds: 'float8',
    handle_seconds: 'float8',
    transfers: 'int',
    resolved: 'boolean',
    outcome: 'text',
    attributes: 'jsonb',
  },
  columns: {
    customer_id: 'c.id',
    channel: 's.channel',
    touchpoint: 's.touchpoint',
    occurred_at: OCCURRED_AT,
    agent: 's.agent',
    team: 's.team',
    wait_seconds: 's.wait_seconds',
    handle_seconds: 's.handle_seconds',
    transfers: 's.transfers',
    resolved: 's.resolved',
    outcome: 's.outcome',
    attributes: "coalesce(s.attributes, '{}')",
    ...snapshot,
  },
  content: [
    'customer_id',
    'channel',
    'touchpoint',
    'occurred_at',
    'agent',
    'team',
    'wait_seconds',
    'handle_seconds',
    'transfers',
    'resolved',
    'outcome',
    'attributes',
  ],
  joins: (customer) => `JOIN ${customer('c', 's.customer_id')} ON true`,
});

// Feedback may name only its interaction: the customer, channel and touchpoint then come from it.
// c is the named customer, ci the interaction's; never both (ci only when no customerId is given).
const upsertFeedback = buildStatements({
  table: 'feedback',
  refersToCustomer: true,
  input: {
    customer_id: 'text',
    interaction_id: 'text',
    source: 'text',
    channel: 'text',
    touchpoint: 'text',
    occurred_at_ms: 'bigint',
    nps: 'smallint',
    csat: 'smallint',
    ces: 'smallint',
    answers: 'jsonb',
    text: 'text',
    experience_rating: 'smallint',
  },
  columns: {
    customer_id: 'coalesce(c.id, ci.id)',
    interaction_external_id: 's.interaction_id',
    source: 's.source',
    channel: 'coalesce(s.channel, i.channel)',
    touchpoint: 'coalesce(s.touchpoint, i.touchpoint)',
    occurred_at: OCCURRED_AT,
    nps: 's.nps',
    csat: 's.csat',
    ces: 's.ces',
    answers: "coalesce(s.answers, '{}')",
    text: 's.text',
    experience_rating: 's.experience_rating',
    lifecycle_stage: 'coalesce(c.lifecycle_stage, ci.lifecycle_stage)',
    personality_type: 'coalesce(c.personality_type, ci.personality_type)',
    segment: 'coalesce(c.segment, ci.segment)',
  },
  content: [
    'customer_id',
    'interaction_external_id',
    'source',
    'channel',
    'touchpoint',
    'occurred_at',
    'nps',
    'csat',
    'ces',
    'answers',
    'text',
    'experience_rating',
  ],
  joins: (customer) =>
    [
      `LEFT JOIN ${customer('c', 's.customer_id')} ON true`,
      'LEFT JOIN LATERAL (SELECT customer_id, channel, touchpoint FROM interaction',
      '  WHERE workspace_id = $1 AND external_id = s.interaction_id LIMIT 1) i ON true',
      'LEFT JOIN LATERAL (SELECT id, lifecycle_stage, personality_type, segment FROM customer',
      '  WHERE s.customer_id IS NULL AND id = i.customer_id LIMIT 1) ci ON true',
    ].join('\n'),
});

const upsertEvents = buildStatements({
  table: 'event',
  refersToCustomer: true,
  input: {
    customer_id: 'text',
    type: 'text',
    occurred_at_ms: 'bigint',
    amount: 'numeric',
    attributes: 'jsonb',
  },
  columns: {
    customer_id: 'c.id',
    type: 's.type',
    occurred_at: OCCURRED_AT,
    amount: 's.amount',
    attributes: "coalesce(s.attributes, '{}')",
  },
  content: ['customer_id', 'type', 'occurred_at', 'amount', 'attributes'],
  joins: (customer) => `JOIN ${customer('c', 's.customer_id')} ON true`,
});

const epochMs = (value: string) => timestampMs(value) as number;

/** Record → the JSON row its statement reads; also names the customer it refers to, if any. */
const toRow: {
  [T in RecordType]: (record: RecordInputs[T]) => {
    row: Record<string, unknown>;
    customer: string | null | undefined;
  };
} = {
  customers: (r: CustomerInput) => {
    let present = 0;
    const row: Record<string, unknown> = { external_id: r.externalId };
    for (const field of CUSTOMER_FIELDS) {
      const key = CUSTOMER_INPUT_KEYS[field];
      if (key in r) {
        present |= bit(field);
        row[field] = r[key] ?? null;
      }
    }
    row.present = present;
    return { row, customer: null };
  },
  interactions: (r: InteractionInput) => ({
    row: {
      external_id: r.externalId,
      customer_id: r.customerId,
      channel: r.channel,
      touchpoint: r.touchpoint,
      occurred_at_ms: epochMs(r.occurredAt),
      agent: r.agent,
      team: r.team,
      wait_seconds: r.waitSeconds,
      handle_seconds: r.handleSeconds,
      transfers: r.transfers,
      resolved: r.resolved,
      outcome: r.outcome,
      attributes: r.attributes ?? undefined,
    },
    customer: r.customerId,
  }),
  feedback: (r: FeedbackInput) => ({
    row: {
      external_id: r.externalId,
      customer_id: r.customerId,
      interaction_id: r.interactionId,
      source: r.source,
      channel: r.channel,
      touchpoint: r.touchpoint,
      occurred_at_ms: epochMs(r.occurredAt),
      nps: r.nps,
      csat: r.csat,
      ces: r.ces,
      answers: r.answers ?? undefined,
      text: r.text,
      experience_rating: experienceRatingLevel(r),
    },
    customer: r.customerId,
  }),
  events: (r: EventInput) => ({
    row: {
      external_id: r.externalId,
      customer_id: r.customerId,
      type: r.type,
      occurred_at_ms: epochMs(r.occurredAt),
      amount: r.amount,
      attributes: r.attributes ?? undefined,
    },
    customer: r.customerId,
  }),
};

const statements = {
  customers: upsertCustomers,
  interactions: upsertInteractions,
  feedback: upsertFeedback,
  events: upsertEvents,
} as const;

/** Later records with the same externalId win; for customers their fields are merged in order. */
const dedupe = <T extends RecordType>(type: T, records: RecordInputs[T][]): RecordInputs[T][] => {
  const byId = new Map<string, RecordInputs[T]>();
  for (const record of records) {
    const previous = byId.get(record.externalId);
    if (previous && type === 'customers') {
      const a = previous as CustomerInput;
      const b = record as CustomerInput;
      const attributes =
        'attributes' in b && b.attributes != null && a.attributes != null
          ? { ...a.attributes, ...b.attributes }
          : undefined;
      byId.set(record.externalId, { ...a, ...b, ...(attributes ? { attributes } : {}) } as RecordInputs[T]);
    } else {
      byId.set(record.externalId, record);
    }
  }
  return [...byId.values()];
};

/** Batches up to this size go through one statement; larger ones take the per-row cheaper path. */
export const SINGLE_STATEMENT_MAX = 200;

/** Encoded rows of one record type, as `upsertRecords` and the write coalescer build them. */
export const encodeRecords = <T extends RecordType>(
  type: T,
  records: RecordInputs[T][],
): { rows: Record<string, unknown>[]; customers: Set<string> } => {
  const rows: Record<string, unknown>[] = [];
  const customers = new Set<string>();
  for (const record of records) {
    const { row, customer } = toRow[type](record);
    rows.push(row);
    if (customer) customers.add(customer);
  }
  return { rows, customers };
};

/**
 * Writes rows (distinct external ids) in one statement, without an explicit transaction (a
 * statement is atomic): every round trip costs a fixed few tenths of a millisecond, which
 * dominates small requests. Returns null, having written nothing, when a customer the rows name
 * was created by a concurrent transaction; the caller then takes the transactional path.
 */
export const writeInOneStatement = async (
  db: Db,
  workspaceId: number,
  type: RecordType,
  rows: Record<string, unknown>[],
): Promise<{ written: [string, boolean][]; customersCreated: string[] } | null> => {
  try {
    const { rows: result } = await withRetry(() =>
      db.executeQuery(statements[type].single(workspaceId, rows)),
    );
    const row = result[0] as SingleResult;
    if (type !== 'customers' && row.written.length > 0) recordsWritten();
    return { written: row.written, customersCreated: row.customers_created };
  } catch (error) {
    if ((error as { code?: string }).code === 'TP001') return null;
    throw error;
  }
};

/**
 * Writes a validated batch in one transaction: unknown customers referred to are created, then the
 * records are upserted by externalId. Either the whole batch is committed or nothing is.
 *
 * @example await upsertRecords(db, workspaceId, 'feedback', [{ externalId: 'F-1', customerId: 'C-1', nps: 9, … }])
 */
export const upsertRecords = async <T extends RecordType>(
  db: Db,
  workspaceId: number,
  type: T,
  records: RecordInputs[T][],
): Promise<UpsertSummary> => {
  if (records.length === 0) return emptySummary();
  const unique = dedupe(type, records);
  const { rows, customers } = encodeRecords(type, unique);
  if (unique.length <= SINGLE_STATEMENT_MAX) {
    const result = await writeInOneStatement(db, workspaceId, type, rows);
    if (result) {
      const created = result.written.filter(([, inserted]) => inserted).length;
      return {
        created,
        updated: result.written.length - created,
        unchanged: records.length - result.written.length,
        customersCreated: result.customersCreated.length,
      };
    }
  }
  const ids = rows.map((row) => row.external_id as string);
  const referenced = [...customers].sort();
  // The fast path inserts records found missing without ON CONFLICT. Should another writer insert
  // one of them meanwhile, the unique index refuses it; the batch then runs again as a full upsert.
  let fastPath = true;
  const summary = await withRetry(async () => {
    try {
      return await db
        .transaction()
        .execute((trx) =>
          writeBatch(trx, workspaceId, statements[type], rows, ids, referenced, fastPath, records.length),
        );
    } catch (error) {
      if (fastPath && isUniqueViolation(error)) {
        fastPath = false;
        return db
          .transaction()
          .execute((trx) =>
            writeBatch(trx, workspaceId, statements[type], rows, ids, referenced, false, records.length),
          );
      }
      throw error;
    }
  });
  if (type !== 'customers' && summary.created + summary.updated > 0) recordsWritten();
  return summary;
};

const writeBatch = async (
  trx: Db,
  workspaceId: number,
  statement: Statements,
  rows: Record<string, unknown>[],
  ids: string[],
  referenced: string[],
  fastPath: boolean,
  received: number,
): Promise<UpsertSummary> => {
  let customersCreated = 0;
  if (referenced.length > 0) {
    const known = new Set(
      (await trx.executeQuery(upsertCustomers.existing(workspaceId, referenced))).rows.map(
        (row) => row.external_id,
      ),
    );
    const missing = referenced.filter((id) => !known.has(id));
    if (missing.length > 0) {
      const created = await sql<{ id: number }>`
        INSERT INTO customer (workspace_id, external_id)
        SELECT ${workspaceId}, x FROM jsonb_array_elements_text(${JSON.stringify(missing)}::jsonb) AS x
        ORDER BY x
        ON CONFLICT (workspace_id, external_id) DO NOTHING
        RETURNING id`.execute(trx);
      customersCreated = created.rows.length;
    }
  }
  let created = 0;
  let updated = 0;
  let stored = rows;
  if (fastPath) {
    const existing = new Set(
      (await trx.executeQuery(statement.existing(workspaceId, ids))).rows.map((r) => r.external_id),
    );
    const fresh = rows.filter((row) => !existing.has(row.external_id as string));
    stored = rows.filter((row) => existing.has(row.external_id as string));
    if (fresh.length > 0) {
      await trx.executeQuery(statement.insert(workspaceId, fresh));
      created = fresh.length;
    }
  }
  if (stored.length > 0) {
    const written = await trx.executeQuery(statement.upsert(workspaceId, stored));
    const inserted = written.rows.filter((row) => row.inserted).length;
    created += inserted;
    updated += written.rows.length - inserted;
  }
  return { created, updated, unchanged: received - created - updated, customersCreated };
};
