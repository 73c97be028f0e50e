import { type ComponentType, lazy, Suspense } from 'react';
import { Link } from 'wouter';
import { Loading } from '../components/Loading';
import type { PageProps } from '../routes';
import NotFound from './NotFound';
import './settings.css';

interface Section {
  slug: string;
  title: string;
  /** One line under the section's heading. */
  summary: string;
  page: ComponentType;
}

/** The settings sections, each at /settings/<slug> (bookmarkable); /settings opens the first. */
export const SECTIONS: readonly Section[] = [
  {
    slug: 'users',
    title: 'Users and roles',
    summary: 'Who may sign in to the dashboard, and what each person may do.',
    page: lazy(() => import('./SettingsUsers')),
  },
  {
    slug: 'api-keys',
    title: 'API keys',
    summary: 'Keys for programs that send records in or read results out.',
    page: lazy(() => import('./SettingsApiKeys')),
  },
  {
    slug: 'webhooks',
    title: 'Webhooks',
    summary: 'Alert and case events sent to other systems (JSON or Slack), with their delivery log.',
    page: lazy(() => import('./SettingsWebhooks')),
  },
  {
    slug: 'alert-rules',
    title: 'Alert rules',
    summary: 'Which encounters raise an alert and open a case, how urgent it is and who gets it.',
    page: lazy(() => import('./SettingsAlertRules')),
  },
  {
    slug: 'workspace',
    title: 'Workspace options',
    summary: 'Teams, touchpoint owners, SLAs and the other closed-loop options.',
    page: lazy(() => import('./SettingsWorkspace')),
  },
  {
    slug: 'contact-fatigue',
    title: 'Contact fatigue',
    summary: 'How often customers may be asked for feedback, across every survey.',
    page: lazy(() => import('./SettingsContactFatigue')),
  },
];

/** Settings of the workspace (admins): a sub-navigation of the sections and the chosen one. */
export default function Settings({ params }: PageProps) {
  const slug = params.section ?? SECTIONS[0]?.slug;
  const section = SECTIONS.find((candidate) => candidate.slug === slug);
  if (!section) return <NotFound params={params} />;
  const Page = section.page;
  return (
    <div className="settings">
      <h1>Settings</h1>
      <nav aria-label="Settings sections" className="settings-nav">
        <ul>
          {SECTIONS.map((candidate) => (
            <li key={candidate.slug}>
              <Link
                href={`/settings/${candidate.slug}`}
                aria-current={candidate === section ? 'page' : undefined}
              >
                {candidate.title}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <section className="settings-section" aria-labelledby="settings-section-title">
        <h2 id="settings-section-title">{section.title}</h2>
        <p className="muted settings-summary">{section.summary}</p>
        <Suspense fallback={<Loading label={`Loading ${section.title.toLowerCase()}…`} />}>
          <Page key={section.slug} />
        </Suspense>
      </section>
    </div>
  );
}
