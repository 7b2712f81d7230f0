import { runReadmeExample } from '@pingora-ts/test-utils';
import { expect, it } from 'vitest';

// The README's usage example must run as printed, and print what its comments say.
it('README usage example runs and prints what it says', async () => {
  const logs = await runReadmeExample(import.meta.url);
  expect(logs).toEqual([
    [{ user: 1 }, 'hit'],
    [true],
    [['miss', 'lock_hit', 'lock_hit'], 1],
    ['hit'],
    [['addr of a.example: miss', 'addr of b.example: miss']],
  ]);
});
