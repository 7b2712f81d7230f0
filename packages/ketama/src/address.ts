/**
 * Socket-address parsing for buckets: `"a.b.c.d:port"` and `"[v6]:port"`, the two forms of
 * Rust's `SocketAddr` and of an nginx `server` line with a literal address. Parsing is strict
 * (no host names, no zone ids, no leading zeros in IPv4 octets) because the text feeds the hash:
 * two spellings that name the same socket must not silently build different rings.
 */

/** A parsed socket address. */
export interface ParsedAddr {
  /** The IP in canonical form without brackets: `127.0.0.1`, `::1`, `::ffff:10.0.0.1`. */
  readonly ip: string;
  readonly port: number;
  readonly family: 4 | 6;
  /** The IP as written, with brackets for IPv6: nginx hashes this text. */
  readonly hostText: string;
  /** The port digits as written (leading zeros kept): nginx hashes this text. */
  readonly portText: string;
}

/** Parse dotted-quad IPv4 into four octets, or `undefined` if `s` is not one. */
function parseIPv4(s: string): number[] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

/** Parse IPv6 text (RFC 4291 forms, optional trailing dotted quad) into eight 16-bit groups. */
function parseIPv6(s: string): number[] | undefined {
  if (s.length === 0 || s.length > 45) return undefined;
  const dbl = s.indexOf('::');
  if (dbl !== -1 && s.indexOf('::', dbl + 1) !== -1) return undefined;
  const parseSide = (side: string, allowV4Tail: boolean): number[] | undefined => {
    if (side === '') return [];
    const fields = side.split(':');
    const groups: number[] = [];
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      if (allowV4Tail && i === fields.length - 1 && f.includes('.')) {
        const v4 = parseIPv4(f);
        if (!v4) return undefined;
        groups.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(f)) return undefined;
        groups.push(Number.parseInt(f, 16));
      }
    }
    return groups;
  };
  if (dbl === -1) {
    const g = parseSide(s, true);
    return g && g.length === 8 ? g : undefined;
  }
  const head = parseSide(s.slice(0, dbl), false);
  const tail = parseSide(s.slice(dbl + 2), true);
  if (!head || !tail || head.length + tail.length > 7) return undefined;
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

/**
 * Canonical IPv6 text as Rust's `Ipv6Addr` prints it (RFC 5952): lower-case hex, the longest run
 * of two or more zero groups (the first on a tie) as `::`, and `::ffff:a.b.c.d` for IPv4-mapped.
 */
export function formatIPv6(g: readonly number[]): string {
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${g[6]! >>> 8}.${g[6]! & 0xff}.${g[7]! >>> 8}.${g[7]! & 0xff}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number) =>
    g
      .slice(from, to)
      .map((x) => x.toString(16))
      .join(':');
  if (bestLen < 2) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}

/** Parse `"ip:port"` / `"[v6]:port"`; throws a `TypeError` naming the problem. */
export function parseSocketAddr(addr: string): ParsedAddr {
  if (typeof addr !== 'string') {
    throw new TypeError(
      `ketama: address must be a string like "10.0.0.1:80" or "[::1]:80", got ${typeof addr}`,
    );
  }
  const bad = (why: string) =>
    new TypeError(
      `ketama: invalid address ${JSON.stringify(addr)}: ${why} (expected "ip:port" or "[ipv6]:port")`,
    );
  const colon = addr.lastIndexOf(':');
  if (colon === -1) throw bad('missing ":port"');
  const hostText = addr.slice(0, colon);
  const portText = addr.slice(colon + 1);
  if (!/^[0-9]{1,5}$/.test(portText.replace(/^0+(?=[0-9])/, ''))) throw bad('port is not a decimal number');
  const port = Number(portText);
  if (port > 65535) throw bad('port is out of range 0-65535');
  if (hostText.startsWith('[')) {
    if (!hostText.endsWith(']')) throw bad('unbalanced "["');
    const inner = hostText.slice(1, -1);
    if (inner.includes('%')) throw bad('IPv6 zone ids are not supported');
    const groups = parseIPv6(inner);
    if (!groups) throw bad('not an IPv6 address');
    return { ip: formatIPv6(groups), port, family: 6, hostText, portText };
  }
  if (hostText.includes(':')) throw bad('IPv6 addresses must be in brackets');
  const v4 = parseIPv4(hostText);
  if (!v4) throw bad('not an IPv4 address (host names are not resolved)');
  return { ip: v4.join('.'), port, family: 4, hostText, portText };
}
