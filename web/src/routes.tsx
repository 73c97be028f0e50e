import { type ComponentType, lazy } from 'react';
import type { Role } from './types';

/** What a page receives: the parameters of its path (`/cases/:id` → `params.id`). */
export interface PageProps {
  params: Record<string, string | undefined>;
}

export interface PageRoute {
  /** Path under /app, in wouter syntax (`/cases/:id`). */
  path: string;
  /**
   * The page, loaded when first shown (each page is its own chunk): `lazyPage(() => import(…))`, or
   * React's `lazy(() => import(…))` (then it cannot be fetched ahead and shows a loading state first).
   */
  page: ComponentType<PageProps> & { preload?: () => Promise<unknown> };
  /** Browser tab title; also the label in the navigation when `nav` is true. */
  title: string;
  /** Listed in the left navigation (pages with path parameters are reached by links). */
  nav: boolean;
  /** Roles that may open the page (and see it in the navigation). */
  roles: readonly Role[];
}

/**
 * Like React.lazy, and it can be fetched ahead (after login, on hovering a link): once loaded it
 * renders at once. (A page that suspends shows its loading state for at least 300 ms in React 19.)
 */
export const lazyPage = (load: () => Promise<{ default: ComponentType<PageProps> }>) => {
  let loaded: ComponentType<PageProps> | undefined;
  let loading: Promise<unknown> | undefined;
  const preload = () => {
    loading ??= load().then(
      (module) => {
        loaded = module.default;
      },
      (error: unknown) => {
        loading = undefined; // a failed fetch (new release, network) is tried again next time
        throw error;
      },
    );
    return loading;
  };
  const Lazy = lazy(async () => {
    await preload();
    return { default: loaded as ComponentType<PageProps> };
  });
  const Page = (props: PageProps) => {
    const Loaded = loaded;
    return Loaded ? <Loaded {...props} /> : <Lazy {...props} />;
  };
  return Object.assign(Page, { preload });
};

export const EVERYONE: readonly Role[] = ['admin', 'analyst', 'manager', 'agent'];
/** Analytics: everyone but agents, who see their own cases and customers only. */
export const ANALYSTS: readonly Role[] = ['admin', 'analyst', 'manager'];
export const ADMINS: readonly Role[] = ['admin'];

/**
 * Every page of the dashboard except the login page. Adding a page is one line here; the
 * navigation follows this order, and /app/ opens the first page in it that the role may see.
 */
export const ROUTES: readonly PageRoute[] = [
  {
    path: '/overview',
    page: lazyPage(() => import('./pages/Overview')),
    title: 'Overview',
    nav: true,
    roles: ANALYSTS,
  },
  {
    path: '/touchpoints',
    page: lazyPage(() => import('./pages/Touchpoints')),
    title: 'Touchpoints',
    nav: true,
    roles: ANALYSTS,
  },
  {
    path: '/extremes',
    page: lazyPage(() => import('./pages/Extremes')),
    title: 'Extremes',
    nav: true,
    roles: ANALYSTS,
  },
  {
    path: '/cases',
    page: lazyPage(() => import('./pages/Cases')),
    title: 'Cases',
    nav: true,
    roles: EVERYONE,
  },
  {
    path: '/cases/:id',
    page: lazyPage(() => import('./pages/CaseDetail')),
    title: 'Case',
    nav: false,
    roles: EVERYONE,
  },
  {
    path: '/customers',
    page: lazyPage(() => import('./pages/Customers')),
    title: 'Customers',
    nav: true,
    roles: EVERYONE,
  },
  {
    path: '/customers/:externalId',
    page: lazyPage(() => import('./pages/Customer')),
    title: 'Customer',
    nav: false,
    roles: EVERYONE,
  },
  {
    path: '/surveys',
    page: lazyPage(() => import('./pages/Surveys')),
    title: 'Surveys',
    nav: true,
    roles: ANALYSTS,
  },
  {
    path: '/surveys/:id',
    page: lazyPage(() => import('./pages/SurveyEditor')),
    title: 'Survey',
    nav: false,
    roles: ANALYSTS,
  },
  {
    path: '/settings',
    page: lazyPage(() => import('./pages/Settings')),
    title: 'Settings',
    nav: true,
    roles: ADMINS,
  },
  {
    path: '/settings/:section',
    page: lazyPage(() => import('./pages/Settings')),
    title: 'Settings',
    nav: false,
    roles: ADMINS,
  },
];

/** The page /app/ opens for a role: the first in the navigation it may see. */
export const homeRoute = (role: Role): PageRoute | undefined =>
  ROUTES.find((route) => route.nav && route.roles.includes(role));
