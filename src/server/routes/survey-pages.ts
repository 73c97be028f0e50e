import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Db } from '../../db/index.js';
import { isAppError } from '../../errors.js';
import { startOpenResponse } from '../../surveys/links.js';
import {
  renderEndPage,
  renderMessagePage,
  renderOptOutPage,
  renderQuestionPage,
} from '../../surveys/render.js';
import {
  markOpened,
  type OpenInvitation,
  openInvitation,
  optOut,
  parseAnswer,
  progressOf,
  type RawAnswer,
  recordAnswer,
  SurveyLinkError,
} from '../../surveys/responses.js';
import { linkSecret, verifyOpenLink, verifyToken } from '../../surveys/tokens.js';
import { uiText } from '../../surveys/ui-text.js';
import { checkWidget, widgetCheckSchema } from '../../surveys/widget.js';
import { WIDGET_SCRIPT } from '../../surveys/widget-script.js';
import { issuesToDetails } from '../../validation.js';

/** The smallest transparent GIF: the e-mail open pixel. */
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

const FORM_LIMIT = 64 * 1024;

type Form = Record<string, string | string[]>;

const parseForm = (text: string): Form => {
  const form: Form = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const before = form[key];
    form[key] = before === undefined ? value : Array.isArray(before) ? [...before, value] : [before, value];
  }
  return form;
};

const html = (reply: FastifyReply, status: number, page: string) =>
  reply
    .status(status)
    .header('content-type', 'text/html; charset=utf-8')
    // The token in the URL is the respondent's key: keep it out of caches and referrers.
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .header(
      'content-security-policy',
      "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors *",
    )
    .send(page);

const linkProblemPage = (error: SurveyLinkError) => {
  const ui = uiText(error.language);
  const [title, message] =
    error.problem === 'invalid'
      ? [ui.linkInvalidTitle, ui.linkInvalid]
      : error.problem === 'expired'
        ? [ui.linkExpiredTitle, ui.linkExpired]
        : [ui.completedTitle, ui.completed];
  return renderMessagePage({ language: error.language, title, message, status: 'error' });
};

const questionPage = (
  invitation: OpenInvitation,
  token: string,
  questionId: string,
  extra: { error?: string; progress?: ReturnType<typeof progressOf>; submitted?: RawAnswer } = {},
) => {
  const progress = extra.progress ?? progressOf(invitation.definition, invitation.answers);
  const position = progress.path.indexOf(questionId) + 1 || progress.position;
  // A refused answer is shown back as it was sent, so nothing typed is lost.
  const previous = extra.submitted ?? invitation.answers[questionId];
  return renderQuestionPage({
    definition: invitation.definition,
    language: invitation.language,
    questionId,
    position,
    total: progress.path.length,
    actionUrl: `/s/${token}`,
    ...(previous === undefined || previous === null ? {} : { previous }),
    ...(extra.error ? { error: extra.error } : {}),
    showIntro: position === 1,
  });
};

/**
 * The public survey pages, reached by the link in an invitation: server-rendered HTML that works
 * without JavaScript, one question per page, every answer saved as it is given.
 */
export const surveyPageRoutes = async (instance: FastifyInstance, { db }: { db: Db }) => {
  instance.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: FORM_LIMIT },
    (_request, text, done) => done(null, parseForm(text as string)),
  );
  instance.setErrorHandler((error, request, reply) => {
    if (error instanceof SurveyLinkError) return html(reply, error.status, linkProblemPage(error));
    const status = isAppError(error) ? error.status : ((error as { statusCode?: number }).statusCode ?? 500);
    if (status >= 500) request.log.error({ err: error }, 'survey page failed');
    const message =
      status >= 500 ? 'Something went wrong; please try again in a moment.' : (error as Error).message;
    return html(
      reply,
      status,
      renderMessagePage({ language: 'en', title: 'Survey', message, status: 'error' }),
    );
  });
  const options = { schema: { hide: true }, config: { access: 'public' as const } };
  type TokenParams = { Params: { token: string } };

  instance.get<TokenParams>('/s/:token', options, async (request, reply) => {
    const now = new Date();
    const invitation = await openInvitation(db, request.params.token, now);
    if (!invitation.openedAt) await markOpened(db, invitation.id, now);
    const progress = progressOf(invitation.definition, invitation.answers);
    if (progress.current === null) return html(reply, 200, renderEndPage(invitation));
    return html(reply, 200, questionPage(invitation, request.params.token, progress.current, { progress }));
  });

  instance.post<TokenParams & { Body: Form | undefined }>('/s/:token', options, async (request, reply) => {
    const now = new Date();
    const { token } = request.params;
    const form = request.body ?? {};
    const invitation = await openInvitation(db, token, now);
    const questionId = typeof form.question === 'string' ? form.question : '';
    const question = invitation.definition.questions.find((q) => q.id === questionId);
    if (!question) return reply.redirect(`/s/${token}`, 303);
    const ui = uiText(invitation.language);
    const parsed = parseAnswer(question, form.answer as RawAnswer, form.skip !== undefined, {
      required: ui.required,
      invalid: ui.invalidAnswer,
    });
    if ('error' in parsed) {
      const submitted = form.answer as RawAnswer;
      return html(
        reply,
        422,
        questionPage(invitation, token, questionId, {
          error: parsed.error,
          ...(submitted === undefined ? {} : { submitted }),
        }),
      );
    }
    const outcome = await recordAnswer(db, token, questionId, parsed.answer, now);
    if (outcome.kind === 'end') return html(reply, 200, renderEndPage(invitation));
    return reply.redirect(`/s/${token}`, 303);
  });

  // One click in the e-mail: the score of the first question, then the rest of the survey.
  instance.get<TokenParams & { Params: { score: string } }>(
    '/s/:token/score/:score',
    options,
    async (request, reply) => {
      const now = new Date();
      const { token } = request.params;
      const invitation = await openInvitation(db, token, now);
      const first = invitation.definition.questions[0];
      if (first?.type === 'rating') {
        const ui = uiText(invitation.language);
        const parsed = parseAnswer(first, request.params.score, false, {
          required: ui.required,
          invalid: ui.invalidAnswer,
        });
        if ('answer' in parsed) {
          const outcome = await recordAnswer(db, token, first.id, parsed.answer, now);
          if (outcome.kind === 'end') return html(reply, 200, renderEndPage(invitation));
        }
      }
      return reply.redirect(`/s/${token}`, 303);
    },
  );

  instance.get('/widget.js', options, async (_request, reply) =>
    reply
      .header('content-type', 'text/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=3600')
      .send(WIDGET_SCRIPT),
  );

  // The widget asks from the customer's site: any origin may, the customer's signature decides.
  const cors = (reply: FastifyReply) =>
    reply
      .header('access-control-allow-origin', '*')
      .header('access-control-allow-methods', 'POST')
      .header('access-control-allow-headers', 'content-type')
      .header('access-control-max-age', '86400');
  instance.options('/w/:workspace/check', options, async (_request, reply) => cors(reply).status(204).send());
  instance.post<{ Params: { workspace: string }; Body: unknown }>(
    '/w/:workspace/check',
    options,
    async (request, reply) => {
      cors(reply);
      const parsed = widgetCheckSchema.safeParse(request.body);
      if (!parsed.success) {
        return reply.status(400).send({
          error: {
            code: 'validation_failed',
            message: 'Invalid widget check',
            details: issuesToDetails(parsed.error.issues),
          },
        });
      }
      try {
        return await checkWidget(db, request.params.workspace, parsed.data);
      } catch (error) {
        if (!isAppError(error)) throw error;
        return reply
          .status(error.status)
          .send({ error: { code: error.code, message: error.message, details: [] } });
      }
    },
  );

  // An open link (QR code in a store): each visit starts a new anonymous response.
  instance.get<TokenParams>('/s/open/:token', options, async (request, reply) => {
    const link = verifyOpenLink(await linkSecret(db), request.params.token);
    if (!link) throw new SurveyLinkError('invalid', 'en');
    const locale = request.headers['accept-language']?.split(',')[0]?.split(';')[0]?.trim() || null;
    const url = await startOpenResponse(db, link, '', locale);
    return reply.redirect(url, 303);
  });

  instance.get<TokenParams>('/s/:token/open.gif', options, async (request, reply) => {
    const publicId = verifyToken(await linkSecret(db), request.params.token);
    if (publicId) {
      const row = await db
        .selectFrom('invitation')
        .select('id')
        .where('public_id', '=', publicId)
        .executeTakeFirst();
      if (row) await markOpened(db, row.id, new Date());
    }
    return reply.header('content-type', 'image/gif').header('cache-control', 'no-store').send(PIXEL);
  });

  const invitationOfLink = async (token: string) => {
    const publicId = verifyToken(await linkSecret(db), token);
    const row = publicId
      ? await db
          .selectFrom('invitation')
          .select(['id', 'language'])
          .where('public_id', '=', publicId)
          .executeTakeFirst()
      : undefined;
    if (!row) throw new SurveyLinkError('invalid', 'en');
    return { id: row.id, language: row.language ?? 'en' };
  };

  // Opting out takes a POST, so that link checkers fetching the e-mail's links opt nobody out.
  instance.get<TokenParams>('/s/:token/opt-out', options, async (request, reply) => {
    const invitation = await invitationOfLink(request.params.token);
    return html(
      reply,
      200,
      renderOptOutPage({ language: invitation.language, actionUrl: `/s/${request.params.token}/opt-out` }),
    );
  });
  instance.post<TokenParams>('/s/:token/opt-out', options, async (request, reply) => {
    const invitation = await invitationOfLink(request.params.token);
    await optOut(db, invitation.id);
    const ui = uiText(invitation.language);
    return html(
      reply,
      200,
      renderMessagePage({ language: invitation.language, title: ui.optedOutTitle, message: ui.optedOut }),
    );
  });
};
