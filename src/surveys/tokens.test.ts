import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { signToken, verifyToken } from './tokens.js';

const SECRET = Buffer.alloc(32, 0x5a);
const OTHER_SECRET = Buffer.alloc(32, 0xa5);
const ID = '0b3c1d2e-3f40-4152-8364-758697a8b9ca';
const OTHER_ID = 'f47ac10b-58cc-4372-a567-0e02b2c3d479';

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const FORMAT = /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{22}$/;

const replaceAt = (text: string, position: number, char: string) =>
  text.slice(0, position) + char + text.slice(position + 1);

describe('signToken', () => {
  test('a token is 22 URL-safe characters, a dot, and 22 URL-safe characters', () => {
    fc.assert(
      fc.property(fc.uuid(), (id) => {
        const token = signToken(SECRET, id);
        expect(token).toMatch(FORMAT);
        expect(token).toHaveLength(45);
        expect(encodeURIComponent(token)).toBe(token);
      }),
    );
  });

  test('the first half is the 16 bytes of the id in base64url', () => {
    expect(signToken(SECRET, '00000000-0000-0000-0000-000000000000').split('.')[0]).toBe('A'.repeat(22));
    // 128 one-bits: 21 characters of six ones, then "11" padded with four zeros = 0b110000 = "w".
    expect(signToken(SECRET, 'ffffffff-ffff-ffff-ffff-ffffffffffff').split('.')[0]).toBe(
      `${'_'.repeat(21)}w`,
    );
  });

  test('is deterministic: the same secret and id always give the same token', () => {
    expect(signToken(SECRET, ID)).toBe(signToken(Buffer.from(SECRET), ID));
  });

  test('another secret changes the MAC half but not the id half', () => {
    const [idHalf, macHalf] = signToken(SECRET, ID).split('.');
    const [otherIdHalf, otherMacHalf] = signToken(OTHER_SECRET, ID).split('.');
    expect(otherIdHalf).toBe(idHalf);
    expect(otherMacHalf).not.toBe(macHalf);
  });

  test('different ids get different MACs under the same secret', () => {
    expect(signToken(SECRET, ID).split('.')[1]).not.toBe(signToken(SECRET, OTHER_ID).split('.')[1]);
  });
});

describe('verifyToken', () => {
  test('round trip: a signed random UUID verifies back to itself', () => {
    fc.assert(
      fc.property(fc.uuid(), (id) => {
        expect(verifyToken(SECRET, signToken(SECRET, id))).toBe(id);
      }),
      { numRuns: 500 },
    );
  });

  test('an upper-case id verifies to its lower-case form', () => {
    expect(verifyToken(SECRET, signToken(SECRET, ID.toUpperCase()))).toBe(ID);
  });

  test('a token signed under another secret does not verify', () => {
    fc.assert(
      fc.property(fc.uuid(), (id) => {
        expect(verifyToken(OTHER_SECRET, signToken(SECRET, id))).toBeNull();
      }),
      { numRuns: 200 },
    );
  });

  test('a single-character change at any position of the id or MAC half fails', () => {
    const token = signToken(SECRET, ID);
    for (let position = 0; position < token.length; position++) {
      if (position === 22) continue; // the dot, below
      // Including the last character of each half, whose four low bits decoding ignores: a token
      // has one spelling only.
      for (const char of BASE64URL) {
        if (char === token[position]) continue;
        expect(verifyToken(SECRET, replaceAt(token, position, char)), `${char} at ${position}`).toBeNull();
      }
    }
  });

  test('replacing the dot by any other character fails', () => {
    const token = signToken(SECRET, ID);
    for (const char of `${BASE64URL}:,;~ +/=`) {
      expect(verifyToken(SECRET, replaceAt(token, 22, char))).toBeNull();
    }
  });

  test('swapped halves fail', () => {
    const [idHalf, macHalf] = signToken(SECRET, ID).split('.');
    expect(verifyToken(SECRET, `${macHalf}.${idHalf}`)).toBeNull();
  });

  test('a truncated token fails', () => {
    const token = signToken(SECRET, ID);
    for (let length = 0; length < token.length; length++) {
      expect(verifyToken(SECRET, token.slice(0, length))).toBeNull();
    }
    expect(verifyToken(SECRET, token.slice(1))).toBeNull();
    expect(verifyToken(SECRET, token.replace('.', ''))).toBeNull();
  });

  test('extra characters before, inside or after the token fail', () => {
    const token = signToken(SECRET, ID);
    for (const extra of ['A', '_', '-', '.', '=', '==', ' ', '\n', '\r\n', '%']) {
      expect(verifyToken(SECRET, `${token}${extra}`)).toBeNull();
      expect(verifyToken(SECRET, `${extra}${token}`)).toBeNull();
    }
    expect(verifyToken(SECRET, `${token.slice(0, 22)}A${token.slice(22)}`)).toBeNull();
    expect(verifyToken(SECRET, `${token.slice(0, 23)}A${token.slice(23)}`)).toBeNull();
    expect(verifyToken(SECRET, `${token}.${token.split('.')[1]}`)).toBeNull();
  });

  test('the empty string and a lone dot fail', () => {
    expect(verifyToken(SECRET, '')).toBeNull();
    expect(verifyToken(SECRET, '.')).toBeNull();
  });

  test('characters outside base64url fail, including standard base64 "+" and "/"', () => {
    const token = signToken(SECRET, ID);
    for (const char of ['+', '/', '=', ' ', '%', '~', 'é', '\u0000']) {
      for (const position of [0, 10, 21, 23, 44]) {
        expect(verifyToken(SECRET, replaceAt(token, position, char))).toBeNull();
      }
    }
  });

  test('the standard base64 spelling of a token with "-" or "_" fails', () => {
    // All-ones id: its id half is "_____________________w".
    const token = signToken(SECRET, 'ffffffff-ffff-ffff-ffff-ffffffffffff');
    expect(verifyToken(SECRET, token)).toBe('ffffffff-ffff-ffff-ffff-ffffffffffff');
    expect(verifyToken(SECRET, token.replace(/_/g, '/').replace(/-/g, '+'))).toBeNull();
  });

  test('a valid MAC of another id does not verify this id', () => {
    const [idHalf] = signToken(SECRET, ID).split('.');
    const [, otherMac] = signToken(SECRET, OTHER_ID).split('.');
    expect(verifyToken(SECRET, `${idHalf}.${otherMac}`)).toBeNull();
  });

  test('a random id half with a random MAC half fails', () => {
    const half = fc.string({ unit: fc.constantFrom(...BASE64URL), minLength: 22, maxLength: 22 });
    fc.assert(
      fc.property(half, half, (idHalf, macHalf) => {
        expect(verifyToken(SECRET, `${idHalf}.${macHalf}`)).toBeNull();
      }),
      { numRuns: 500 },
    );
  });
});
