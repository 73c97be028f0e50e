import { describe, expect, test } from 'vitest';
import { takeReady } from './import-file.js';

const batch = (name: string, ...ids: string[]) => ({ name, ids: new Set(ids) });
const names = (batches: { name: string }[]) => batches.map((b) => b.name);

describe('takeReady (which import batches may be written now)', () => {
  test('takes batches in order up to the concurrency', () => {
    const queue = [batch('a', '1'), batch('b', '2'), batch('c', '3')];
    expect(names(takeReady(queue, [], 2))).toEqual(['a', 'b']);
    expect(names(queue)).toEqual(['c']);
  });

  test('one at a time when the concurrency is 1', () => {
    const queue = [batch('a', '1'), batch('b', '2')];
    expect(names(takeReady(queue, [], 1))).toEqual(['a']);
    expect(names(takeReady(queue, [batch('a', '1')], 1))).toEqual([]);
  });

  test('a batch sharing an id with one being written waits, and so does everything after it', () => {
    const writing = [batch('a', '1', '2')];
    const queue = [batch('b', '2', '3'), batch('c', '9')];
    expect(names(takeReady(queue, writing, 3))).toEqual([]);
    expect(names(queue)).toEqual(['b', 'c']);
  });

  test('a batch sharing an id with one taken in the same call waits', () => {
    const queue = [batch('a', '1'), batch('b', '1'), batch('c', '2')];
    expect(names(takeReady(queue, [], 3))).toEqual(['a']);
  });

  test('nothing to take from an empty queue', () => {
    expect(takeReady([], [], 2)).toEqual([]);
  });
});
