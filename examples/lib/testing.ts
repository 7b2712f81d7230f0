/**
 * Setup shared by the example tests: demo origins and running examples that close after each test.
 * Every test file runs `afterEach(closeAll)`; the registry is @pingora-ts/test-utils'.
 */
import { onClose } from '@pingora-ts/test-utils';
import { type DemoOrigin, startDemoOrigin } from './demo-origins.js';
import type { Running } from './run.js';

export { closeAll, deadPort, onClose } from '@pingora-ts/test-utils';

/** A demo origin named `name` on a free port, closed after the test. */
export async function origin(name: string): Promise<DemoOrigin> {
  const o = await startDemoOrigin(name);
  onClose(() => o.close());
  return o;
}

/** Closes a started example after the test; returns it. */
export function track<T extends Running>(r: T): T {
  onClose(() => r.close());
  return r;
}
