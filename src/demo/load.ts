import { sql } from 'kysely';
import type { Db } from '../db/index.js';
import type { RecordType } from '../domain/vocabulary.js';
import { addSummaries, emptySummary, type UpsertSummary, upsertRecords } from '../ingest/upsert.js';
import { validateRecord } from '../ingest/validate.js';
import { setUpDemoClosedLoop } from './closed-loop.js';
import { type DemoOptions, generateDemo } from './generate.js';

export interface DemoSummary {
  customers: UpsertSummary;
  interactions: UpsertSummary;
  feedback: UpsertSummary;
  events: UpsertSummary;
}

const BATCH = 2000;

/** Whether the demo data set was loaded into the workspace before (and when). */
export const demoLoadedAt = async (db: Db, workspaceId: number): Promise<string | null> => {
  const row = await db
    .selectFrom('workspace')
    .select('settings')
    .where('id', '=', workspaceId)
    .executeTakeFirst();
  const demo = (row?.settings as { demo?: { loadedAt?: string } } | undefined)?.demo;
  return demo?.loadedAt ?? null;
};

/**
 * Generates the demo data set and writes it through the same validation and upsert as the API, so
 * loading it twice changes nothing (dates are relative to today, so a later day updates them).
 */
export const loadDemo = async (
  db: Db,
  workspaceId: number,
  options: DemoOptions & { print?: (line: string) => void; closedLoop?: boolean } = {},
): Promise<DemoSummary> => {
  const print = options.print ?? (() => {});
  // Rules first: the records written next raise their alerts through the outbox.
  if (options.closedLoop && (await setUpDemoClosedLoop(db, workspaceId))) {
    print('Demo closed loop: teams, 3 alert rules and 2 playbooks (recent bad encounters open cases)');
  }
  const data = generateDemo(options);
  const summary: DemoSummary = {
    customers: emptySummary(),
    interactions: emptySummary(),
    feedback: emptySummary(),
    events: emptySummary(),
  };
  const types: RecordType[] = ['customers', 'interactions', 'feedback', 'events'];
  for (const type of types) {
    const records = data[type];
    for (let i = 0; i < records.length; i += BATCH) {
      const batch = records.slice(i, i + BATCH).map((record) => {
        const result = validateRecord(type, record);
        if (!result.ok) throw new Error(`Demo ${type} record is invalid: ${JSON.stringify(result.details)}`);
        return result.value;
      });
      summary[type] = addSummaries(summary[type], await upsertRecords(db, workspaceId, type, batch));
    }
    const s = summary[type];
    print(
      `Demo ${type}: ${records.length.toLocaleString('en')} (${s.created} created, ${s.updated} updated, ${s.unchanged} unchanged)`,
    );
  }
  await sql`UPDATE workspace SET settings = settings || ${JSON.stringify({ demo: { loadedAt: new Date().toISOString() } })}::jsonb
            WHERE id = ${workspaceId}`.execute(db);
  return summary;
};
