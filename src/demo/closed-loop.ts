import { z } from 'zod';
import { createPlaybook, playbookInputSchema } from '../closed-loop/playbooks.js';
import { createRule } from '../closed-loop/rules.js';
import { readClosedLoopSettings, writeClosedLoopSettings } from '../closed-loop/settings.js';
import type { Db } from '../db/index.js';
import { readSettingsSection, writeSettingsSection } from '../workspace/workspaces.js';
import { DEMO_TOUCHPOINT_TEAMS } from './generate.js';

/** A person of a demo team, e.g. `billing.lead@demo.example`. */
const person = (team: string, who: string) =>
  `${team.toLowerCase().replace(/[^a-z0-9]+/g, '-')}.${who}@demo.example`;

const DAY_HOURS = 24;

/**
 * The closed loop of the demo workspace: teams owning the touchpoints, three alert rules and two
 * playbooks, so that the demo's recent bad encounters open cases (once a server runs). Set up once;
 * a later run leaves what people have changed alone.
 */
export const setUpDemoClosedLoop = async (db: Db, workspaceId: number): Promise<boolean> => {
  const done = await readSettingsSection(db, workspaceId, 'demoClosedLoop', z.string(), '');
  if (done) return false;
  const teams = [...new Set(Object.values(DEMO_TOUCHPOINT_TEAMS))];
  const settings = await readClosedLoopSettings(db, workspaceId);
  await writeClosedLoopSettings(db, workspaceId, {
    ...settings,
    teams: Object.fromEntries(
      teams.map((team) => [
        team,
        { lead: person(team, 'lead'), members: [person(team, '1'), person(team, '2')] },
      ]),
    ),
    // The relationship survey is about the whole relationship: retention owns what it raises.
    touchpointTeams: { ...DEMO_TOUCHPOINT_TEAMS, relationship: 'Retention' },
  });
  const rules = [
    {
      name: 'Disastrous experience',
      severity: 'high',
      condition: { field: 'experienceRating', op: 'eq', value: 1 },
      routing: [{ to: 'touchpointTeam' }],
      maxAgeHours: 14 * DAY_HOURS,
    },
    {
      name: 'Customer threatens to leave',
      severity: 'critical',
      condition: { field: 'text', op: 'matches', value: 'cancel|lawyer|switch(ing)? to' },
      routing: [{ to: 'touchpointTeam' }],
      maxAgeHours: 30 * DAY_HOURS,
    },
    {
      name: 'Bounced between departments',
      severity: 'medium',
      condition: { pattern: 'transfers', atLeast: 3 },
      routing: [{ to: 'touchpointTeam' }],
      maxAgeHours: 7 * DAY_HOURS,
    },
  ];
  for (const rule of rules) await createRule(db, workspaceId, rule);
  const playbooks = [
    {
      name: 'Billing error recovery',
      match: { touchpoints: ['billing', 'payment'] },
      steps: [
        'Read the customer’s last invoices and the interaction that raised the case',
        'Call the customer within one working day and apologise',
        'Correct the invoice or explain it in writing',
        'Send the confirmation e-mail from the case',
      ],
    },
    {
      name: 'Call back a disastrous experience',
      match: { severities: ['high', 'critical'] },
      steps: [
        'Read the feedback and the customer’s timeline',
        'Call the customer: listen, apologise, agree on what happens next',
        'Set the root cause',
        'Do what was agreed and tell the customer',
      ],
    },
  ];
  for (const playbook of playbooks)
    await createPlaybook(db, workspaceId, playbookInputSchema.parse(playbook));
  await writeSettingsSection(db, workspaceId, 'demoClosedLoop', new Date().toISOString());
  return true;
};
