/**
 * One cleanup registry for every fixture a test opens (servers, sockets, services, child
 * processes). Fixtures register their own close step; a test file runs `afterEach(closeAll)`.
 * Steps run last-registered first, so a proxy closes before the origin behind it.
 */

const closers: Array<() => unknown> = [];

/** Registers a cleanup step for {@link closeAll}. */
export function onClose(fn: () => unknown): void {
  closers.push(fn);
}

/** Runs every registered cleanup step, newest first, and empties the registry. */
export async function closeAll(): Promise<void> {
  while (closers.length > 0) await closers.pop()!();
}
