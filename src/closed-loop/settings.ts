import { z } from 'zod';
import type { Db } from '../db/index.js';
import { isTimeZone } from '../surveys/fatigue.js';
import { timeOfDaySchema } from '../validation.js';
import { readSettingsSection, writeSettingsSection } from '../workspace/workspaces.js';

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

const name = z.string().trim().min(1).max(100);
const person = z.string().trim().min(1).max(200).describe('A person, by e-mail address (owners get e-mail).');

const slaSchema = z
  .object({
    firstResponseMinutes: z.int().min(1).max(525_600),
    resolveMinutes: z.int().min(1).max(525_600),
  })
  .strict();

export const DEFAULT_ROOT_CAUSES = [
  'process',
  'people',
  'product',
  'policy',
  'system',
  'communication',
  'third_party',
  'customer_expectation',
  'other',
];

export const DEFAULT_TEMPLATES = {
  apology: {
    subject: 'We are sorry about your recent experience',
    body:
      'Dear {{customer.name}},\n\nThank you for telling us about your recent experience. We are sorry it fell short. ' +
      'We have looked into what happened and would like to put it right.\n\nIf anything is still open, simply reply ' +
      'to this e-mail and {{owner}} will take care of it personally.\n\nKind regards',
  },
  resolved: {
    subject: 'Your issue has been resolved',
    body:
      'Dear {{customer.name}},\n\nThe problem you reported is now resolved. Thank you for your patience, and ' +
      'please reply if anything is still not right.\n\nKind regards',
  },
};

/** A workspace's closed-loop settings: teams, routing tables, SLAs, root causes, recovery. */
export const closedLoopSettingsSchema = z
  .object({
    teams: z
      .record(
        name,
        z
          .object({
            members: z
              .array(person)
              .max(500)
              .default([])
              .describe('Cases are assigned round-robin among them.'),
            lead: person.optional().describe('Escalations of the team go to its lead.'),
          })
          .strict(),
      )
      .default({})
      .describe('Teams by name.'),
    touchpointTeams: z
      .record(z.string().min(1).max(200), name)
      .default({})
      .describe('The team owning each touchpoint (routing step {"to":"touchpointTeam"}).'),
    rootCauses: z
      .array(
        z
          .string()
          .trim()
          .regex(/^[a-z0-9_.-]{1,64}$/, 'must be a code of a-z, 0-9, _ . -'),
      )
      .min(1)
      .max(200)
      .default(DEFAULT_ROOT_CAUSES)
      .describe('The root-cause taxonomy: the codes a case may be given.'),
    sla: z
      .object({ low: slaSchema, medium: slaSchema, high: slaSchema, critical: slaSchema })
      .strict()
      .default({
        low: { firstResponseMinutes: 2880, resolveMinutes: 10080 },
        medium: { firstResponseMinutes: 480, resolveMinutes: 4320 },
        high: { firstResponseMinutes: 120, resolveMinutes: 1440 },
        critical: { firstResponseMinutes: 30, resolveMinutes: 480 },
      })
      .describe('Time to first response and to resolution by severity.'),
    businessHours: z
      .object({
        timeZone: z.string().refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin'),
        days: z
          .array(z.int().min(1).max(7))
          .min(1)
          .max(7)
          .default([1, 2, 3, 4, 5])
          .describe('ISO weekdays: 1 Monday … 7 Sunday.'),
        start: timeOfDaySchema,
        end: timeOfDaySchema,
      })
      .strict()
      .refine((hours) => hours.start < hours.end, { message: 'start must be before end', path: ['end'] })
      .nullable()
      .default(null)
      .describe('When set, SLA clocks run only in these hours; null: around the clock.'),
    escalateTo: person
      .nullable()
      .default(null)
      .describe(
        'Who takes over a breached case when its team has no lead (null: the owner keeps it, notified).',
      ),
    valueTiers: z
      .tuple([z.number().nonnegative(), z.number().nonnegative()])
      .refine(([low, high]) => low < high, 'the first tier must be below the second')
      .default([1000, 10000])
      .describe('Customer value from which a customer is mid (tier 2) and high (tier 3) value.'),
    recoveryWindowDays: z
      .int()
      .min(1)
      .max(730)
      .default(90)
      .describe('After a case closes, how long the customer has to show recovery before it is unknown.'),
    notifyOwners: z.boolean().default(true).describe('E-mail owners when a case is assigned or escalated.'),
    messageTemplates: z
      .record(
        z.string().regex(/^[a-z0-9_-]{1,64}$/, 'must be a name of a-z, 0-9, _ and -'),
        z.object({ subject: z.string().min(1).max(300), body: z.string().min(1).max(20_000) }).strict(),
      )
      .default(DEFAULT_TEMPLATES)
      .describe(
        'Follow-up e-mails to customers by name; {{customer.name}}, {{case.id}}, {{case.title}} and {{owner}} are filled in.',
      ),
  })
  .strict();

export type ClosedLoopSettings = z.infer<typeof closedLoopSettingsSchema>;
export const DEFAULT_CLOSED_LOOP_SETTINGS: ClosedLoopSettings = closedLoopSettingsSchema.parse({});

/** The workspace's closed-loop settings, defaults filled in. */
export const readClosedLoopSettings = (db: Db, workspaceId: number): Promise<ClosedLoopSettings> =>
  readSettingsSection(db, workspaceId, 'closedLoop', closedLoopSettingsSchema, DEFAULT_CLOSED_LOOP_SETTINGS);

/** Replaces the workspace's closed-loop settings (already validated). */
export const writeClosedLoopSettings = (
  db: Db,
  workspaceId: number,
  settings: ClosedLoopSettings,
): Promise<void> => writeSettingsSection(db, workspaceId, 'closedLoop', settings);
