import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';
import { AppError } from '../errors.js';

// scrypt with N = 2^15, r = 8, p = 3: one of OWASP's equivalent minimum settings (as strong as
// N = 2^17, p = 1) with 32 MiB instead of 128 MiB per hash, about 0.2–0.3 s on these machines. The
// parameters are stored with each hash, so they can be raised later without breaking old ones.
const PARAMS = { N: 2 ** 15, r: 8, p: 3 } as const;
const KEY_LENGTH = 32;

export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 200;

const derive = (password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    scrypt(
      password.normalize('NFKC'),
      salt,
      KEY_LENGTH,
      { ...options, maxmem: 128 * 1024 * 1024 },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });

/** Refuses a password people should not use, saying why. */
export const checkPasswordStrength = (password: string): void => {
  if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
    throw new AppError(
      400,
      'weak_password',
      `A password has ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`,
      [
        {
          path: 'password',
          message: `must have ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`,
        },
      ],
    );
  }
};

/** The stored form of a password: `scrypt$N$r$p$salt$hash`. */
export const hashPassword = async (password: string): Promise<string> => {
  const salt = randomBytes(16);
  const key = await derive(password, salt, PARAMS);
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64'), key.toString('base64')].join('$');
};

// Checking a password for an unknown e-mail costs as much as for a known one, so the time taken
// does not tell which addresses have accounts.
let decoy: Promise<string> | undefined;

/** Whether the password matches the stored hash (constant time); `stored` undefined checks a decoy. */
export const verifyPassword = async (password: string, stored: string | undefined): Promise<boolean> => {
  decoy ??= hashPassword(randomBytes(16).toString('hex'));
  const [scheme, n, r, p, salt, hash] = (stored ?? (await decoy)).split('$');
  const [N, R, P] = [Number(n), Number(r), Number(p)];
  // A damaged stored value never verifies (and never fails the request).
  const whole = (value: number, low: number, high: number) =>
    Number.isInteger(value) && value >= low && value <= high;
  const usable =
    scheme === 'scrypt' &&
    salt &&
    hash &&
    whole(N, 2, 2 ** 20) &&
    (N & (N - 1)) === 0 &&
    whole(R, 1, 32) &&
    whole(P, 1, 16);
  if (!usable) return false;
  const expected = Buffer.from(hash, 'base64');
  try {
    const key = await derive(password, Buffer.from(salt, 'base64'), { N, r: R, p: P });
    return stored !== undefined && key.length === expected.length && timingSafeEqual(key, expected);
  } catch {
    return false;
  }
};

/** A password to hand out once: 20 characters of base64url (120 bits). */
export const generatePassword = (): string => randomBytes(15).toString('base64url');
