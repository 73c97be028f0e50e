import { describe, expect, test } from 'vitest';
import { appError } from '../../test/helpers/errors.js';
import { checkPasswordStrength, generatePassword, hashPassword, verifyPassword } from './passwords.js';

// Password hashing (scrypt) and the strength check. No database: the stored form is a string.

describe('hashPassword / verifyPassword', () => {
  test('a hash verifies its own password and no other, and never contains the password', async () => {
    const password = 'correct horse battery staple';
    const stored = await hashPassword(password);
    expect(stored).not.toContain(password);
    expect(stored.split('$')).toHaveLength(6);
    expect(stored.split('$')[0]).toBe('scrypt');
    expect(await verifyPassword(password, stored)).toBe(true);
    for (const wrong of [
      'correct horse battery stapl',
      'correct horse battery staple ',
      'Correct horse battery staple',
      '',
      `${password}${password}`,
    ]) {
      expect(await verifyPassword(wrong, stored), JSON.stringify(wrong)).toBe(false);
    }
  });

  test('the same password hashed twice: different salts and hashes, both verify', async () => {
    const password = 'same password twice';
    const [a, b] = await Promise.all([hashPassword(password), hashPassword(password)]);
    expect(a).not.toBe(b);
    const [, , , , saltA, hashA] = a.split('$');
    const [, , , , saltB, hashB] = b.split('$');
    expect(saltA).not.toBe(saltB);
    expect(hashA).not.toBe(hashB);
    expect(await verifyPassword(password, a)).toBe(true);
    expect(await verifyPassword(password, b)).toBe(true);
  });

  test('the parameters stored with a hash are the ones used to check it', async () => {
    const password = 'parameters travel along';
    const stored = await hashPassword(password);
    const [scheme, n, r, p, salt, hash] = stored.split('$') as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    // The same salt and hash with other parameters no longer match.
    const halved = [scheme, String(Number(n) / 2), r, p, salt, hash].join('$');
    expect(await verifyPassword(password, halved)).toBe(false);
    // Another salt with the same hash no longer matches either.
    const otherSalt = [scheme, n, r, p, Buffer.alloc(16, 7).toString('base64'), hash].join('$');
    expect(await verifyPassword(password, otherSalt)).toBe(false);
  });

  test('a malformed stored value never verifies (and does not throw)', async () => {
    const password = 'whatever it is';
    const good = await hashPassword(password);
    const [, n, r, p, salt, hash] = good.split('$') as [string, string, string, string, string, string];
    const malformed = [
      '',
      'scrypt',
      'scrypt$$$$$',
      password,
      `bcrypt$${n}$${r}$${p}$${salt}$${hash}`,
      `scrypt$${n}$${r}$${p}$${salt}`,
      `scrypt$${n}$${r}$${p}$$${hash}`,
      `scrypt$${n}$${r}$${p}$${salt}$`,
      `scrypt$${n}$${r}$${p}$${salt}$${hash.slice(0, 20)}`,
      `$${n}$${r}$${p}$${salt}$${hash}`,
    ];
    for (const stored of malformed) {
      expect(await verifyPassword(password, stored), JSON.stringify(stored)).toBe(false);
    }
  });

  test('without a stored hash (unknown user) the answer is false, also for the decoy’s own input', async () => {
    expect(await verifyPassword('any password at all', undefined)).toBe(false);
    expect(await verifyPassword('', undefined)).toBe(false);
  });

  test('passwords are compared after NFKC normalisation', async () => {
    // "é" precomposed (U+00E9) and decomposed (e + U+0301) are the same password.
    const composed = 'caf\u00e9 au lait, s’il vous plaît';
    const decomposed = composed.normalize('NFD');
    expect(decomposed).not.toBe(composed);
    const stored = await hashPassword(composed);
    expect(await verifyPassword(decomposed, stored)).toBe(true);

    // Compatibility forms: the "ﬁ" ligature and full-width letters are their plain equivalents.
    const ligature = await hashPassword('\ufb01nancial report 2024');
    expect(await verifyPassword('financial report 2024', ligature)).toBe(true);
    const fullWidth = await hashPassword('\uff30\uff41\uff53\uff53\uff57\uff4f\uff52\uff44-long-enough');
    expect(await verifyPassword('Password-long-enough', fullWidth)).toBe(true);

    // Normalisation does not make different letters equal.
    expect(await verifyPassword('cafe au lait, s’il vous plaît', stored)).toBe(false);
  });

  test('generated passwords are long, URL-safe, pass the strength check and differ', async () => {
    const generated = Array.from({ length: 50 }, () => generatePassword());
    for (const password of generated) {
      expect(password).toMatch(/^[A-Za-z0-9_-]{20}$/);
      expect(() => checkPasswordStrength(password)).not.toThrow();
    }
    expect(new Set(generated).size).toBe(generated.length);
    const stored = await hashPassword(generated[0] as string);
    expect(await verifyPassword(generated[0] as string, stored)).toBe(true);
  });
});

describe('damaged stored values', () => {
  test('a stored value with unusable scrypt parameters never verifies (and does not throw)', async () => {
    const password = 'whatever it is';
    const [, n, r, , salt, hash] = (await hashPassword(password)).split('$');
    for (const stored of [
      `scrypt$abc$${r}$1$${salt}$${hash}`,
      `scrypt$3$${r}$1$${salt}$${hash}`,
      `scrypt$${2 ** 24}$${r}$1$${salt}$${hash}`,
      `scrypt$${n}$${r}$-1$${salt}$${hash}`,
    ]) {
      await expect(verifyPassword(password, stored), stored).resolves.toBe(false);
    }
  });
});

describe('checkPasswordStrength', () => {
  test('too short or too long → 400 weak_password with a detail on password', () => {
    for (const password of ['', 'a', 'nine char', 'x'.repeat(201), 'y'.repeat(5000)]) {
      const error = appError(() => checkPasswordStrength(password));
      expect(error.status, JSON.stringify(password.slice(0, 20))).toBe(400);
      expect(error.code).toBe('weak_password');
      expect(error.message).toMatch(/10/);
      expect(error.details).toEqual([{ path: 'password', message: expect.stringMatching(/10 to 200/) }]);
    }
  });

  test('10 to 200 characters are accepted', () => {
    for (const password of ['ten chars!', 'x'.repeat(200), 'a'.repeat(10), 'with spaces inside it']) {
      expect(() => checkPasswordStrength(password)).not.toThrow();
    }
  });
});
