/** Test helper: a cached body read to its end, as text. */
import type { HitHandler } from '../src/storage/storage.js';

/** Reads `hit` to its end and returns the body as UTF-8 text. */
export async function readAll(hit: HitHandler): Promise<string> {
  let out = '';
  for (let c = await hit.readBody(); c !== undefined; c = await hit.readBody())
    out += Buffer.from(c).toString();
  return out;
}
