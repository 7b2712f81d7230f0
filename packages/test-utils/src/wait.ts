/** Bounded polling for effects that land after an event (a log line, a counter, a closed socket). */

/** Polls `cond` on the event loop, 2 ms apart, at most `tries` times; throws if it never holds. */
export async function waitFor(cond: () => boolean, tries = 500): Promise<void> {
  for (let i = 0; i < tries && !cond(); i++) await new Promise((r) => setTimeout(r, 2));
  if (!cond()) throw new Error(`condition still false after ${tries} polls`);
}
