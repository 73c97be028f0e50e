import { describe, expect, test } from 'vitest';
import { MAX_PREDICATES, outboxTriggerBody } from './outbox-filter.js';

const rule = (workspace_id: number, condition: unknown, kinds = ['feedback'], max_age_seconds = 604_800) => ({
  workspace_id,
  condition,
  kinds,
  max_age_seconds,
});
const detractor = { field: 'nps', op: 'lte', value: 6 };

describe('outboxTriggerBody', () => {
  test('no active rule of the kind: the trigger does nothing', () => {
    expect(outboxTriggerBody('feedback', [])).toBe('BEGIN\n  RETURN NULL;\nEND;');
    expect(outboxTriggerBody('event', [rule(1, detractor)])).toBe('BEGIN\n  RETURN NULL;\nEND;');
  });

  test('a branch per workspace, an age test per age limit, the predicates joined three-valued', () => {
    const body = outboxTriggerBody('feedback', [
      rule(1, detractor),
      rule(1, { field: 'csat', op: 'lte', value: 2 }, ['feedback'], 3600),
      rule(2, detractor),
    ]);
    expect(body).toContain('WHEN 1 THEN (n.occurred_at > now() - make_interval(secs => 604800)');
    expect(body).toContain('(n.occurred_at > now() - make_interval(secs => 3600)');
    expect(body).toContain('WHEN 2 THEN');
    expect(body).toContain('(coalesce(n.nps <= 6, false)) IS NOT FALSE');
    expect(body).toContain('ELSE false END');
    // No text search: the rows are read as they are.
    expect(body).toContain('FROM new_rows n');
  });

  test('guards go first when rules share them; a text search reads the lowered copy', () => {
    const body = outboxTriggerBody('feedback', [
      rule(1, { all: [{ field: 'touchpoint', op: 'eq', value: 'billing' }, detractor] }),
      rule(1, { all: [{ field: 'touchpoint', op: 'eq', value: 'support' }, detractor] }),
      rule(1, { field: 'text', op: 'contains', value: 'Cancel' }),
    ]);
    const guard = body.indexOf('(coalesce(n.nps <= 6, false)\n');
    const rules = body.indexOf('(coalesce(n.touchpoint = $tp$billing$tp$, false)');
    expect(guard).toBeGreaterThan(0);
    expect(rules).toBeGreaterThan(guard);
    expect(body).toContain('strpos(n.tp_lower_text, $tp$cancel$tp$) > 0');
    expect(body).toContain('AS tp_lower_text FROM new_rows r OFFSET 0) n');
  });

  test('a rule the row cannot decide leaves only the age test; so do rules beyond the compiled limit', () => {
    expect(
      outboxTriggerBody('feedback', [
        rule(1, detractor),
        rule(1, { pattern: 'repeatContact', count: 2, withinDays: 7 }),
      ]),
    ).not.toContain('IS NOT FALSE');
    const many = Array.from({ length: MAX_PREDICATES + 1 }, (_, i) =>
      rule(1, { field: 'nps', op: 'eq', value: i % 11 }),
    );
    const body = outboxTriggerBody('feedback', many);
    expect(body).toContain('WHEN 1 THEN (n.occurred_at > now() - make_interval(secs => 604800))');
    expect(body).not.toContain('IS NOT FALSE');
  });
});
