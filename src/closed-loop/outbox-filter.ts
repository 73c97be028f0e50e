import { sql } from 'kysely';
import type { Db } from '../db/index.js';
import type { Condition, RecordKind } from '../domain/alert-conditions.js';
import { conditionGuard, conditionPrefilter, prefilterSource, sqlText } from '../domain/alert-prefilter.js';

const KINDS: readonly RecordKind[] = ['feedback', 'interaction', 'event'];
/** One rewrite at a time, across processes. */
const REWRITE_LOCK = 7_245_311;
/**
 * Rule predicates compiled into one trigger at most; the rules of workspaces beyond it queue every
 * record within their age limit (correct, only slower), which keeps the trigger's plan small.
 */
export const MAX_PREDICATES = 2_000;

interface ActiveRule {
  workspace_id: number;
  condition: unknown;
  kinds: string[];
  max_age_seconds: number;
}

/**
 * The body of a record table's outbox trigger (migration 0007) for the active rules: a static
 * statement, planned once per connection, that queues each written record some rule of its
 * workspace may match within the rule's age limit. No active rule: the trigger does nothing.
 *
 * @example outboxTriggerBody('feedback', []); // 'BEGIN\n  RETURN NULL;\nEND;'
 */
export const outboxTriggerBody = (kind: RecordKind, rules: readonly ActiveRule[]): string => {
  // Per workspace, per age limit, the distinct predicates of its rules for this kind and their guards.
  const workspaces = new Map<number, Map<number, { predicates: Set<string>; guards: Set<string> }>>();
  let compiled = 0;
  for (const rule of rules) {
    if (!rule.kinds.includes(kind)) continue;
    const ages = workspaces.get(rule.workspace_id) ?? new Map();
    workspaces.set(rule.workspace_id, ages);
    const group = ages.get(rule.max_age_seconds) ?? {
      predicates: new Set<string>(),
      guards: new Set<string>(),
    };
    ages.set(rule.max_age_seconds, group);
    const condition = rule.condition as Condition;
    const within = compiled < MAX_PREDICATES;
    compiled += 1;
    group.predicates.add(within ? conditionPrefilter(condition, kind) : 'true');
    group.guards.add(within ? conditionGuard(condition, kind) : 'true');
  }
  if (workspaces.size === 0) return 'BEGIN\n  RETURN NULL;\nEND;';
  // Three-valued: a disjunction is false only when each of its parts is.
  const disjunction = (parts: Set<string>) =>
    parts.has('true') || parts.has('NULL::boolean')
      ? null
      : `(${[...parts].join('\n        OR ')}) IS NOT FALSE`;
  const branches = [...workspaces].map(([workspaceId, ages]) => {
    const byAge = [...ages].map(([seconds, { predicates, guards }]) => {
      const tests = [`n.occurred_at > now() - make_interval(secs => ${seconds})`];
      const guard = disjunction(guards);
      const any = disjunction(predicates);
      // The few distinct guards first: most records stop there.
      if (guard !== null && guards.size < predicates.size) tests.push(guard);
      if (any !== null) tests.push(any);
      return `(${tests.join('\n      AND ')})`;
    });
    return `    WHEN ${workspaceId} THEN ${byAge.join(' OR ')}`;
  });
  const where = `CASE n.workspace_id\n${branches.join('\n')}\n    ELSE false END`;
  return `BEGIN
  INSERT INTO alert_outbox (workspace_id, record_kind, record_id, customer_id, occurred_at)
  SELECT n.workspace_id, '${kind}', n.id, n.customer_id, n.occurred_at
  FROM ${prefilterSource(kind, 'new_rows', where)}
  WHERE ${where}
  ORDER BY n.id;
  RETURN NULL;
END;`;
};

/**
 * Rewrites the outbox triggers of the record tables for the active rules as committed with this
 * transaction. Called in the transaction of every change to alert rules, and when a process opens
 * the database (so a rule changed any other way counts from the next start). A function that would
 * not change is left alone.
 */
export const rewriteOutboxTriggers = async (trx: Db): Promise<void> => {
  await sql`SELECT pg_advisory_xact_lock(${REWRITE_LOCK})`.execute(trx);
  const rules = await trx
    .selectFrom('alert_rule')
    .select(['workspace_id', 'condition', 'kinds', 'max_age_seconds'])
    .where('active', '=', true)
    .orderBy('workspace_id')
    .orderBy('id')
    .execute();
  const current = await sql<{ proname: string; prosrc: string }>`
    SELECT proname, prosrc FROM pg_proc
    WHERE proname IN ('tp_alert_outbox_feedback', 'tp_alert_outbox_interaction', 'tp_alert_outbox_event')`.execute(
    trx,
  );
  const sources = new Map(current.rows.map((row) => [row.proname, row.prosrc]));
  for (const kind of KINDS) {
    const name = `tp_alert_outbox_${kind}`;
    const body = outboxTriggerBody(kind, rules as ActiveRule[]);
    if (sources.get(name)?.trim() === body) continue;
    await sql
      .raw(
        `CREATE OR REPLACE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS ${sqlText(`\n${body}\n`)}`,
      )
      .execute(trx);
  }
};
