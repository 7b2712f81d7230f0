/**
 * CIDR blocks for a route's `allow` and `deny`: IPv4 and IPv6, with IPv4-mapped IPv6 clients
 * (`::ffff:192.0.2.7`, as a dual-stack listener reports IPv4 peers) matched as IPv4. Blocks are
 * parsed once; a client address is parsed without allocating (into scratch space reused by every
 * request: the check is synchronous).
 */
import type { Session } from '@pingora-ts/proxy';
import type { GatewayCtx, RequestGuard } from '../runtime/contracts.js';

/** One parsed block: the address as 8 16-bit groups (IPv4: the last two), and its prefix length. */
interface Block {
  v4: boolean;
  groups: Uint16Array;
  bits: number;
}

/** A compiled list of CIDR blocks. */
export interface CidrSet {
  /** Whether the address (textual, as Node reports it) lies in one of the blocks. */
  has(address: string): boolean;
}

const scratch = new Uint16Array(8);

/**
 * Compiles CIDR blocks (`10.0.0.0/8`, `192.0.2.7`, `2001:db8::/32`); throws on an invalid one.
 *
 * @example
 * ```ts
 * const set = cidrSet(['10.0.0.0/8', '::1']);
 * set.has('::ffff:10.1.2.3'); // true
 * ```
 */
export function cidrSet(blocks: readonly string[]): CidrSet {
  const parsed = blocks.map(parseBlock);
  return {
    has(address) {
      const family = parseIp(address, scratch);
      if (family === 0) return false;
      for (let i = 0; i < parsed.length; i++) {
        const b = parsed[i]!;
        if (b.v4 === (family === 4) && inBlock(scratch, b)) return true;
      }
      return false;
    },
  };
}

const FORBIDDEN = 'Forbidden\n';

/**
 * The allow/deny guard of a route, or `undefined` when it has neither. A client in `deny` gets 403;
 * with `allow`, a client outside it gets 403 too (deny wins over allow). A client with no IP address
 * (a Unix socket listener) passes a deny list but fails an allow list.
 */
export function cidrGuard(
  allow: readonly string[] | undefined,
  deny: readonly string[] | undefined,
): RequestGuard | undefined {
  if (allow === undefined && deny === undefined) return undefined;
  const allowed = allow === undefined ? undefined : cidrSet(allow);
  const denied = deny === undefined ? undefined : cidrSet(deny);
  return (session: Session, _ctx: GatewayCtx) => {
    const addr = session.clientAddr();
    const ip = addr === undefined || addr.family === 'unix' ? undefined : addr.address;
    const ok =
      ip === undefined
        ? allowed === undefined
        : !denied?.has(ip) && (allowed === undefined || allowed.has(ip));
    if (ok) return false;
    session.respondErrorWithBody(403, FORBIDDEN);
    return true;
  };
}

function parseBlock(block: string): Block {
  const slash = block.indexOf('/');
  const ip = slash === -1 ? block : block.slice(0, slash);
  const groups = new Uint16Array(8);
  const family = parseIp(ip, groups);
  if (family === 0) throw new Error(`invalid CIDR block "${block}"`);
  const max = family === 4 ? 32 : 128;
  const bits = slash === -1 ? max : Number(block.slice(slash + 1));
  if (!Number.isInteger(bits) || bits < 0 || bits > max) throw new Error(`invalid CIDR block "${block}"`);
  return { v4: family === 4, groups, bits };
}

function inBlock(addr: Uint16Array, b: Block): boolean {
  // IPv4 lives in groups 6 and 7; its prefix counts from there.
  let bits = b.bits;
  let i = b.v4 ? 6 : 0;
  while (bits >= 16) {
    if (addr[i] !== b.groups[i]) return false;
    i++;
    bits -= 16;
  }
  if (bits === 0) return true;
  const mask = (0xffff << (16 - bits)) & 0xffff;
  return (addr[i]! & mask) === (b.groups[i]! & mask);
}

/**
 * Parses an IPv4 or IPv6 address into `out` (8 groups; IPv4 in groups 6–7). Returns 4 or 6, or 0
 * when it is not an address. An IPv4-mapped IPv6 address is reported as IPv4. A zone (`%eth0`)
 * is ignored.
 */
export function parseIp(s: string, out: Uint16Array): 0 | 4 | 6 {
  if (s.indexOf(':') === -1) return parseV4(s, 0, s.length, out, 6) ? 4 : 0;
  let end = s.indexOf('%');
  if (end === -1) end = s.length;
  out.fill(0);
  // Groups are read left to right; those after '::' are moved to the end afterwards.
  let n = 0;
  let gapAt = -1;
  let i = 0;
  if (s.startsWith('::')) {
    gapAt = 0;
    i = 2;
  }
  while (i < end) {
    let j = i;
    let v = 0;
    while (j < end && j - i < 5) {
      const d = hexDigit(s.charCodeAt(j));
      if (d === -1) break;
      v = v * 16 + d;
      j++;
    }
    if (j < end && s.charCodeAt(j) === 0x2e) {
      // A dotted IPv4 tail (`::ffff:1.2.3.4`) fills the last two groups.
      if (n > 6 || !parseV4(s, i, end, out, n)) return 0;
      n += 2;
      break;
    }
    if (j === i || j - i > 4 || n === 8) return 0;
    out[n++] = v;
    if (j === end) break;
    if (s.charCodeAt(j) !== 0x3a) return 0;
    if (s.charCodeAt(j + 1) === 0x3a) {
      if (gapAt !== -1) return 0;
      gapAt = n;
      i = j + 2;
    } else {
      i = j + 1;
      if (i === end) return 0;
    }
  }
  if (gapAt === -1) {
    if (n !== 8) return 0;
  } else {
    if (n > 7) return 0;
    const after = n - gapAt;
    for (let k = after - 1; k >= 0; k--) {
      out[8 - after + k] = out[gapAt + k]!;
      out[gapAt + k] = 0;
    }
  }
  const mapped =
    out[0] === 0 && out[1] === 0 && out[2] === 0 && out[3] === 0 && out[4] === 0 && out[5] === 0xffff;
  return mapped ? 4 : 6;
}

/** Dotted-quad `s[from, to)` into groups `at` and `at + 1` of `out`. */
function parseV4(s: string, from: number, to: number, out: Uint16Array, at: number): boolean {
  let part = 0;
  let v = 0;
  let digits = 0;
  let hi = 0;
  for (let i = from; i <= to; i++) {
    const c = i === to ? 0x2e : s.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || v > 255 || part === 4) return false;
      if ((part & 1) === 0) hi = v << 8;
      else out[at + (part >> 1)] = hi | v;
      part++;
      v = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits === 3) return false;
      v = v * 10 + (c - 0x30);
      digits++;
    } else return false;
  }
  return part === 4;
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}
