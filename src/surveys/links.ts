import QRCode from 'qrcode';
import type { Db } from '../db/index.js';
import type { Channel } from '../domain/vocabulary.js';
import { AppError } from '../errors.js';
import { invitationLinks } from './dispatch.js';
import { issuedNow, requireSurvey } from './surveys.js';
import { linkSecret, type OpenLink, signOpenLink, signToken } from './tokens.js';

const base = (publicUrl: string) => publicUrl.replace(/\/+$/, '');

/** The URL of an open link: `/s/open/<token>`. */
export const openLinkUrl = async (db: Db, publicUrl: string, link: OpenLink): Promise<string> =>
  `${base(publicUrl)}/s/open/${signOpenLink(await linkSecret(db), link)}`;

/** Checks that the survey exists in the workspace; the open link of a touchpoint and channel. */
export const surveyOpenLink = async (
  db: Db,
  workspaceId: number,
  surveyId: number,
  touchpoint: string | null,
  channel: Channel,
  publicUrl: string,
): Promise<string> => {
  await requireSurvey(db, workspaceId, surveyId);
  return openLinkUrl(db, publicUrl, { surveyId, touchpoint, channel });
};

/**
 * A visit to an open link: a new anonymous invitation, issued at once, whose answers become a
 * feedback record for the link's touchpoint and channel. Returns the survey link to go on to.
 */
export const startOpenResponse = async (
  db: Db,
  link: OpenLink,
  publicUrl: string,
  locale: string | null,
  now = new Date(),
): Promise<string> => {
  const survey = await db
    .selectFrom('survey')
    .select(['id', 'workspace_id', 'version', 'status'])
    .where('id', '=', link.surveyId)
    .executeTakeFirst();
  if (!survey) throw new AppError(404, 'not_found', 'This survey no longer exists');
  if (survey.status !== 'active') throw new AppError(410, 'survey_inactive', 'This survey is closed');
  const row = await db
    .insertInto('invitation')
    .values({
      workspace_id: survey.workspace_id,
      survey_id: survey.id,
      channel: 'link',
      touchpoint: link.touchpoint,
      contact_channel: link.channel,
      ...(await issuedNow(db, survey, locale, now)),
    })
    .returning('public_id')
    .executeTakeFirstOrThrow();
  return invitationLinks(publicUrl, signToken(await linkSecret(db), row.public_id)).surveyUrl;
};

/** The survey link of an invitation issued as a link (receipt, letter), for its QR code. */
export const invitationUrl = async (
  db: Db,
  workspaceId: number,
  publicId: string,
  publicUrl: string,
): Promise<string> => {
  const row = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(publicId)
    ? await db
        .selectFrom('invitation')
        .select(['public_id', 'channel'])
        .where('workspace_id', '=', workspaceId)
        .where('public_id', '=', publicId)
        .executeTakeFirst()
    : undefined;
  if (!row) throw new AppError(404, 'not_found', `No invitation with id "${publicId}" in this workspace`);
  if (row.channel !== 'link') {
    throw new AppError(
      409,
      'not_a_link',
      `Invitation "${publicId}" is sent by ${row.channel}, not issued as a link`,
    );
  }
  return invitationLinks(publicUrl, signToken(await linkSecret(db), row.public_id)).surveyUrl;
};

/** A QR code of a URL, as SVG text or a PNG image. */
export const qrCode = async (url: string, format: 'svg' | 'png'): Promise<string | Buffer> =>
  format === 'svg'
    ? QRCode.toString(url, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 })
    : QRCode.toBuffer(url, { type: 'png', errorCorrectionLevel: 'M', margin: 2, width: 512 });
