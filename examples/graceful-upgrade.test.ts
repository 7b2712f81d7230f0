import { expect, it } from 'vitest';
import { demo } from './graceful-upgrade.js';

it('graceful-upgrade: three upgrades under load, every request answered, four generations', async () => {
  const r = await demo(3);
  expect(r.failed).toEqual([]);
  expect(r.ok).toBeGreaterThanOrEqual(200);
  expect(r.generations).toHaveLength(4);
  expect(new Set(r.generations).size).toBe(4);
  // Two workers per generation answered at least once across the run.
  expect(r.servedBy.size).toBeGreaterThanOrEqual(4);
}, 240_000);
