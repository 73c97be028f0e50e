import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from '../db/index.js';

/**
 * Survey links: `/s/<token>`, where the token is the invitation's public id (a random UUID) and a
 * MAC of it under this installation's secret. A token cannot be guessed or forged without the
 * secret, and the same token can be rebuilt for a reminder without storing it. Single use and
 * expiry are the invitation's state (completed_at, expires_at), checked on every request.
 */

const SECRET_NAME = 'survey-link-key';
const MAC_BYTES = 16;

const secrets = new WeakMap<Db, Promise<Buffer>>();

const loadSecret = async (db: Db): Promise<Buffer> => {
  await db
    .insertInto('instance_secret')
    .values({ name: SECRET_NAME, value: randomBytes(32) })
    .onConflict((conflict) => conflict.column('name').doNothing())
    .execute();
  const row = await db
    .selectFrom('instance_secret')
    .select('value')
    .where('name', '=', SECRET_NAME)
    .executeTakeFirstOrThrow();
  return Buffer.from(row.value);
};

/** The link-signing key, created on first use and shared by every process of the installation. */
export const linkSecret = (db: Db): Promise<Buffer> => {
  let secret = secrets.get(db);
  if (!secret) {
    secret = loadSecret(db);
    secret.catch(() => secrets.delete(db));
    secrets.set(db, secret);
  }
  return secret;
};

/**
 * Whether a token is the one spelling of its bytes: base64url's last character carries unused
 * bits, which decoding ignores, so without this check one token would have many spellings.
 */
const canonical = (token: string, first: Buffer, second: Buffer) =>
  token === `${first.toString('base64url')}.${second.toString('base64url')}`;

const mac = (secret: Buffer, id: Buffer) =>
  createHmac('sha256', secret).update('invitation:').update(id).digest().subarray(0, MAC_BYTES);

const uuidBytes = (uuid: string) => Buffer.from(uuid.replace(/-/g, ''), 'hex');

const uuidOf = (bytes: Buffer) => {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

/**
 * The link token of an invitation.
 *
 * @example signToken(secret, '0b3c…-…') // → "CzzA…Q.k3J…w" (22 + 1 + 22 characters)
 */
export const signToken = (secret: Buffer, publicId: string): string => {
  const id = uuidBytes(publicId);
  return `${id.toString('base64url')}.${mac(secret, id).toString('base64url')}`;
};

/** The public id a token names, or null when the token is malformed or its MAC is wrong. */
export const verifyToken = (secret: Buffer, token: string): string | null => {
  const match = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{22})$/.exec(token);
  if (!match) return null;
  const id = Buffer.from(match[1] as string, 'base64url');
  const given = Buffer.from(match[2] as string, 'base64url');
  if (id.length !== 16 || given.length !== MAC_BYTES || !canonical(token, id, given)) return null;
  return timingSafeEqual(given, mac(secret, id)) ? uuidOf(id) : null;
};

/** What an open link (a QR code in a store, a link in a newsletter) asks about. */
export interface OpenLink {
  surveyId: number;
  touchpoint: string | null;
  channel: string;
}

const openMac = (secret: Buffer, payload: Buffer) =>
  createHmac('sha256', secret).update('open-link:').update(payload).digest().subarray(0, MAC_BYTES);

/** The token of an open link: anyone may use it, each visit starts a new anonymous response. */
export const signOpenLink = (secret: Buffer, link: OpenLink): string => {
  const payload = Buffer.from(JSON.stringify([link.surveyId, link.touchpoint, link.channel]));
  return `${payload.toString('base64url')}.${openMac(secret, payload).toString('base64url')}`;
};

/** The open link a token names, or null when it is malformed or forged. */
export const verifyOpenLink = (secret: Buffer, token: string): OpenLink | null => {
  const match = /^([A-Za-z0-9_-]{4,800})\.([A-Za-z0-9_-]{22})$/.exec(token);
  if (!match) return null;
  const payload = Buffer.from(match[1] as string, 'base64url');
  const given = Buffer.from(match[2] as string, 'base64url');
  if (given.length !== MAC_BYTES || !canonical(token, payload, given)) return null;
  if (!timingSafeEqual(given, openMac(secret, payload))) return null;
  try {
    const [surveyId, touchpoint, channel] = JSON.parse(payload.toString('utf8')) as [
      number,
      string | null,
      string,
    ];
    return { surveyId, touchpoint, channel };
  } catch {
    return null;
  }
};
