/**
 * TLS material compared by content, as Pingora compares it: two peers whose CA or client
 * certificate hold the same bytes are the same peer, whether those bytes sit in one object or in
 * two. A digest (SHA-256 of the PEM bytes) is computed once per object and kept in a `WeakMap`,
 * so a long-lived `Buffer` is hashed once and a hot path that hands the same objects over and
 * over only pays a map lookup. A certificate chain given as a list is joined into one PEM (leaf
 * first), the form `node:tls` wants with a single key.
 */
import { createHash } from 'node:crypto';
import type { CertKey, Pem } from './cert-key.js';

// Digests of objects (Buffers, lists, CertKeys), by identity; weak, so dropped material goes too.
const objectDigests = new WeakMap<object, string>();
// Digests of PEM strings, by value; bounded (strings cannot be weak keys), oldest dropped first.
const stringDigests = new Map<string, string>();
const STRING_CACHE_MAX = 256;

function sha256(data: string | Uint8Array): string {
  // 128 bits of SHA-256: no collision in practice, and a short pool key.
  return createHash('sha256').update(data).digest('base64url').slice(0, 22);
}

const NEWLINE = Buffer.from('\n');

/**
 * One PEM out of `pem`: a list is concatenated in its order (a newline added after a piece that
 * lacks one), so `[leaf, intermediate]` becomes the chain `node:tls` expects with one key.
 *
 * @example
 * ```ts
 * joinPem([readFileSync('leaf.pem'), readFileSync('intermediate.pem')]); // one Buffer, leaf first
 * ```
 */
export function joinPem(pem: Pem): string | Buffer {
  if (!Array.isArray(pem)) return pem;
  if (pem.length === 1) return pem[0]!;
  const parts: Buffer[] = [];
  for (const p of pem) {
    const b = typeof p === 'string' ? Buffer.from(p) : p;
    if (b.length === 0) continue;
    parts.push(b);
    if (b[b.length - 1] !== 0x0a) parts.push(NEWLINE);
  }
  return Buffer.concat(parts);
}

function stringDigest(s: string): string {
  let d = stringDigests.get(s);
  if (d === undefined) {
    d = sha256(s);
    if (stringDigests.size >= STRING_CACHE_MAX) stringDigests.delete(stringDigests.keys().next().value!);
    stringDigests.set(s, d);
  }
  return d;
}

function pemDigest(pem: Pem): string {
  if (typeof pem === 'string') return stringDigest(pem);
  let d = objectDigests.get(pem);
  if (d === undefined) {
    // A list digests as its joined PEM, so `[leaf, intermediate]` and the same chain in one file agree.
    d = Array.isArray(pem) ? sha256(joinPem(pem)) : sha256(pem);
    objectDigests.set(pem, d);
  }
  return d;
}

/**
 * A short text that is equal for equal TLS material and different otherwise: CA or certificate
 * PEM (a string, a `Buffer`, or a list of them), or a {@link CertKey} (chain, key and
 * passphrase). `''` for `undefined`. Objects are hashed once and remembered (weakly); treat
 * material handed to a peer as immutable, as a later change to the same object is not seen.
 *
 * @example
 * ```ts
 * tlsMaterialDigest(readFileSync('ca.pem')) === tlsMaterialDigest(readFileSync('ca.pem')); // true
 * ```
 */
export function tlsMaterialDigest(v: Pem | CertKey | undefined): string {
  if (v === undefined) return '';
  if (typeof v === 'string' || Array.isArray(v) || v instanceof Uint8Array) return pemDigest(v);
  let d = objectDigests.get(v);
  if (d === undefined) {
    const ck = v as CertKey;
    // Strings inside a CertKey are not cached by value: its own digest is, weakly, and a private
    // key or passphrase should not outlive the object that holds it.
    const part = (p: Pem) => (typeof p === 'string' ? sha256(p) : pemDigest(p));
    const pass = ck.passphrase === undefined ? '' : sha256(ck.passphrase);
    d = sha256(`${part(ck.cert)}|${part(ck.key)}|${pass}`);
    objectDigests.set(v, d);
  }
  return d;
}
