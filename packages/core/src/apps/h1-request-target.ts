/**
 * Fix-ups of an HTTP/1 request head that node:http accepted but a proxy must not pass on as is:
 * an absolute-form target (rewritten to origin-form, Host from its authority) and an h2c upgrade
 * offer (stripped, so no tunnel can carry requests past the phases). Both edit `req.url` and
 * `req.rawHeaders` in place, before any session is built from them.
 */
import type { IncomingMessage } from 'node:http';

// Whether a comma-separated field value names `token`, ignoring case and a `/version` suffix.
function listHas(value: string, token: string): boolean {
  for (const t of value.split(',')) {
    const name = t.trim().toLowerCase();
    if (name === token || name.startsWith(`${token}/`)) return true;
  }
  return false;
}

function listWithout(value: string, drop: (token: string) => boolean): string {
  return value
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0 && !drop(t.toLowerCase()))
    .join(', ');
}

// scheme "://" authority, then the rest (path, query) of an absolute-form target.
const ABSOLUTE_FORM = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)(.*)$/s;
// host [":" port]: a reg-name (no userinfo, no percent-encoding) or an IP literal.
const AUTHORITY = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=-]+)(?::[0-9]{1,5})?$/;

/**
 * Rewrites an absolute-form request target (`GET http://a.example/x`) to origin-form (`/x`) with
 * `Host` set from the target's authority, replacing any received Host (RFC 9112 §3.2.2: the server
 * ignores it), so every phase and the origin see one host. CONNECT's authority-form and
 * `OPTIONS *` are left alone. Returns why the target is refused, or undefined once rewritten.
 */
export function toOriginForm(req: IncomingMessage): string | undefined {
  const url = req.url!;
  if (req.method === 'CONNECT' || (url === '*' && req.method === 'OPTIONS')) return undefined;
  const m = ABSOLUTE_FORM.exec(url);
  if (m === null) return 'invalid request target';
  const scheme = m[1]!.toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return `unsupported scheme in request target: ${scheme}`;
  const authority = m[2]!;
  if (!AUTHORITY.test(authority)) return 'invalid authority in request target';
  const rest = m[3]!;
  req.url = rest[0] === '/' ? rest : `/${rest}`; // empty, or a query or fragment right after the authority
  const raw = req.rawHeaders;
  let set = false;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== 'host') continue;
    if (set) {
      raw.splice(i, 2);
      i -= 2;
    } else {
      raw[i + 1] = authority;
      set = true;
    }
  }
  if (!set) raw.unshift('Host', authority);
  return undefined;
}

/**
 * Removes an h2c upgrade offer from `req.rawHeaders` in place: the `h2c` token of Upgrade, every
 * HTTP2-Settings field, and the Connection tokens naming them. Returns true when nothing else was
 * offered, i.e. the request is now a plain one; false (fields untouched) when h2c was not offered,
 * and false with the other offers kept when the client offered something besides h2c.
 */
export function withoutH2cUpgrade(req: IncomingMessage): boolean {
  const raw = req.rawHeaders;
  let offered = false;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === 'upgrade' && listHas(raw[i + 1]!, 'h2c')) offered = true;
  }
  if (!offered) return false;
  const isH2c = (t: string) => t === 'h2c' || t.startsWith('h2c/');
  let upgradeLeft = false;
  const kept: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (lower === 'http2-settings') continue;
    if (lower === 'upgrade') {
      const v = listWithout(raw[i + 1]!, isH2c);
      if (v.length === 0) continue;
      upgradeLeft = true;
      kept.push(name, v);
    } else kept.push(name, raw[i + 1]!);
  }
  raw.length = 0;
  for (let i = 0; i < kept.length; i += 2) {
    const name = kept[i]!;
    let value = kept[i + 1]!;
    if (name.toLowerCase() === 'connection') {
      value = listWithout(value, (t) => t === 'http2-settings' || (!upgradeLeft && t === 'upgrade'));
      if (value.length === 0) continue;
    }
    raw.push(name, value);
  }
  return !upgradeLeft;
}

// The request head again, from what node parsed (field values are latin1 strings, byte for byte).
export function requestHeadBytes(req: IncomingMessage): Buffer {
  const raw = req.rawHeaders;
  let head = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
  for (let i = 0; i + 1 < raw.length; i += 2) head += `${raw[i]}: ${raw[i + 1]}\r\n`;
  return Buffer.from(`${head}\r\n`, 'latin1');
}
