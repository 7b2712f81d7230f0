import { runReadmeExample } from '@pingora-ts/test-utils';
import { expect, it } from 'vitest';

// The README's usage example must run as printed, and print what its comments say.
it('README usage example runs and prints what it says', async () => {
  const logs = (await runReadmeExample(import.meta.url)).map((args) =>
    args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '),
  );
  expect(logs).toEqual(['alpha', 'evicted /a (307200 bytes)', '7', '[3]', '[2]']);
});
