import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { generatePassword, verifyPassword } from '../../auth/passwords.js';
import { login, logout, SESSION_COOKIE, SESSION_IDLE_MS, type UserSession } from '../../auth/sessions.js';
import {
  createUser,
  deleteUser,
  findUser,
  listUsers,
  setPassword,
  type UserInfo,
  updateUser,
} from '../../auth/users.js';
import type { Db } from '../../db/index.js';
import { USER_ROLES } from '../../domain/vocabulary.js';
import { AppError } from '../../errors.js';
import { grantsOf, principalOf, type UserPrincipal, userOf } from '../auth.js';
import { errorResponses } from '../openapi.js';

const sessionOut = z.object({
  user: z.object({ id: z.int(), email: z.string(), name: z.string().nullable() }),
  workspace: z.object({ id: z.int(), slug: z.string(), name: z.string() }),
  role: z.enum(USER_ROLES),
  permissions: z
    .object({ read: z.boolean(), write: z.boolean(), admin: z.boolean(), workCases: z.boolean() })
    .describe('What the role allows, for the dashboard to show only what can be used.'),
  csrfToken: z.string().describe('Send it as X-CSRF-Token with every request that changes something.'),
  expiresAt: z.string(),
  workspaces: z
    .array(z.object({ slug: z.string(), name: z.string(), role: z.enum(USER_ROLES) }))
    .describe('Every workspace with a user of this e-mail address (log in again to switch).'),
});

const userOut = z.object({
  id: z.int(),
  email: z.string(),
  name: z.string().nullable(),
  role: z.enum(USER_ROLES),
  createdAt: z.string(),
  lastLoginAt: z.string().nullable(),
});

const toUserOut = (user: UserInfo) => ({
  id: user.id,
  email: user.email,
  name: user.name,
  role: user.role,
  createdAt: user.createdAt.toISOString(),
  lastLoginAt: user.lastLoginAt?.toISOString() ?? null,
});

const password = z.string().min(1).max(200);

/** Whether cookies must be `Secure`: when people reach the server over HTTPS (PUBLIC_URL). */
export interface AuthRouteOptions {
  db: Db;
  publicUrl: () => string;
}

/** Sign-in for people (session cookie + CSRF token), and the workspace's users (admins). */
export const authRoutes = async (instance: FastifyInstance, { db, publicUrl }: AuthRouteOptions) => {
  const app = instance.withTypeProvider<ZodTypeProvider>();
  const tags = ['users'];

  const describeSession = async (session: UserSession & { kind?: 'user' }) => {
    const principal: UserPrincipal = { ...session, kind: 'user' };
    const grants = grantsOf(principal);
    const [workspace, workspaces] = await Promise.all([
      db
        .selectFrom('workspace')
        .select(['id', 'slug', 'name'])
        .where('id', '=', session.workspaceId)
        .executeTakeFirstOrThrow(),
      db
        .selectFrom('app_user')
        .innerJoin('workspace', 'workspace.id', 'app_user.workspace_id')
        .select(['workspace.slug', 'workspace.name', 'app_user.role'])
        .where((eb) => eb(eb.fn('lower', ['app_user.email']), '=', session.email.toLowerCase()))
        .orderBy('workspace.id')
        .execute(),
    ]);
    return {
      user: { id: session.userId, email: session.email, name: session.name },
      workspace,
      role: session.role,
      permissions: {
        read: grants.has('read'),
        write: grants.has('write'),
        admin: grants.has('admin'),
        workCases: grants.has('workCases'),
      },
      csrfToken: session.csrfToken,
      expiresAt: session.expiresAt.toISOString(),
      workspaces: workspaces.map((w) => ({ slug: w.slug, name: w.name, role: w.role as UserInfo['role'] })),
    };
  };

  const setSessionCookie = (reply: FastifyReply, token: string | null) =>
    reply.setCookie(SESSION_COOKIE, token ?? '', {
      path: '/',
      httpOnly: true,
      sameSite: 'strict',
      secure: publicUrl().startsWith('https:'),
      maxAge: token ? SESSION_IDLE_MS / 1000 : 0,
    });

  app.post(
    '/api/v1/auth/login',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'Sign in with e-mail and password',
        description:
          'Opens a session in an HTTP-only cookie and returns its CSRF token. Wrong e-mail or password: 401 ' +
          '`invalid_credentials`; 10 failures within 15 minutes for an address: 429 `too_many_attempts`.',
        security: [],
        body: z.strictObject({
          email: z.string().min(1).max(320),
          password,
          workspace: z
            .string()
            .min(1)
            .max(63)
            .optional()
            .describe('A workspace slug, when the address has several.'),
        }),
        response: { 200: sessionOut, ...errorResponses(400, 401, 429) },
      },
    },
    async (request, reply) => {
      const { token, session } = await login(db, { ...request.body, client: request.ip });
      setSessionCookie(reply, token);
      return describeSession(session);
    },
  );

  app.get(
    '/api/v1/auth/session',
    {
      config: { access: 'session' },
      schema: {
        tags,
        summary: 'The signed-in person, their role and CSRF token',
        response: { 200: sessionOut, ...errorResponses(401, 403) },
      },
    },
    async (request) => describeSession(userOf(request)),
  );

  app.post(
    '/api/v1/auth/logout',
    {
      config: { access: 'session' },
      schema: { tags, summary: 'Sign out', response: { 204: z.null(), ...errorResponses(401, 403) } },
    },
    async (request, reply) => {
      await logout(db, userOf(request).sessionId);
      setSessionCookie(reply, null);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/v1/auth/password',
    {
      config: { access: 'session' },
      schema: {
        tags,
        summary: 'Change my password',
        description: `At least 10 characters. Every other session of the user ends.`,
        body: z.strictObject({ currentPassword: password, newPassword: z.string().max(200) }),
        response: { 204: z.null(), ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const me = userOf(request);
      const user = await findUser(db, me.workspaceId, { id: me.userId });
      if (!(await verifyPassword(request.body.currentPassword, user.passwordHash))) {
        throw new AppError(401, 'invalid_credentials', 'The current password is wrong');
      }
      await setPassword(db, me.userId, request.body.newPassword, me.sessionId);
      return reply.status(204).send(null);
    },
  );

  // ------------------------------------------------------------------ users (admins)
  const idParams = z.object({ id: z.coerce.number().int().positive() });

  app.get(
    '/api/v1/users',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: "The workspace's users",
        response: { 200: z.object({ items: z.array(userOut) }), ...errorResponses(401, 403) },
      },
    },
    async (request) => ({ items: (await listUsers(db, principalOf(request).workspaceId)).map(toUserOut) }),
  );

  app.post(
    '/api/v1/users',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Add a user',
        description:
          'Without a password one is generated and returned once in `password`. Roles: admin (everything), ' +
          'analyst (reads everything), manager (reads everything, works the cases of their teams in the ' +
          'closed-loop settings), agent (their own cases and the customer view).',
        body: z.strictObject({
          email: z.string().min(3).max(320),
          name: z.string().max(200).optional(),
          role: z.enum(USER_ROLES),
          password: z.string().max(200).optional(),
        }),
        response: {
          201: z.object({ user: userOut, password: z.string().nullable() }),
          ...errorResponses(400, 401, 403, 409),
        },
      },
    },
    async (request, reply) => {
      const { user, password } = await createUser(db, principalOf(request).workspaceId, request.body);
      reply.status(201);
      return { user: toUserOut(user), password };
    },
  );

  app.patch(
    '/api/v1/users/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: "Change a user's role or name",
        description: 'A changed role ends the user’s sessions. The last admin keeps the admin role (409).',
        params: idParams,
        body: z
          .strictObject({
            role: z.enum(USER_ROLES).optional(),
            name: z.string().max(200).nullable().optional(),
          })
          .refine((body) => body.role !== undefined || body.name !== undefined, {
            message: 'give at least one of role, name',
          }),
        response: { 200: userOut, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) =>
      toUserOut(await updateUser(db, principalOf(request).workspaceId, request.params.id, request.body)),
  );

  app.post(
    '/api/v1/users/:id/password',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: "Reset a user's password",
        description:
          'For a user who forgot theirs: a new password is generated and returned once in `password` ' +
          '(or the given one is set). Their sessions end.',
        params: idParams,
        body: z.strictObject({ password: z.string().max(200).optional() }),
        response: {
          200: z.object({ password: z.string().nullable() }),
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const user = await findUser(db, principalOf(request).workspaceId, { id: request.params.id });
      const password = request.body.password ?? generatePassword();
      await setPassword(db, user.id, password);
      return { password: request.body.password === undefined ? password : null };
    },
  );

  app.delete(
    '/api/v1/users/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Remove a user',
        description: 'Their sessions end. The last admin cannot be removed (409).',
        params: idParams,
        response: { 204: z.null(), ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      await deleteUser(db, principalOf(request).workspaceId, request.params.id);
      return reply.status(204).send(null);
    },
  );
};
