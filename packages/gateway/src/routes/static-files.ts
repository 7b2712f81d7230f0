/**
 * The `static` action: files from a directory, as a small nginx `root` would serve them. GET and
 * HEAD only; a directory is answered with its index file (or a redirect adding the slash);
 * validators (ETag, Last-Modified) answer conditional requests with 304; big files stream with
 * the client's backpressure. A request can never reach outside the root: its path is decoded once,
 * and a NUL byte (400), a segment starting with a dot (`..`, `.git`, `.env`: 404) or a resolved
 * path outside the root (404) ends it before the disk is touched. Symbolic links inside the root
 * are followed, as nginx does by default.
 */
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import { ResponseHeader } from '@pingora-ts/http';
import type { Session } from '@pingora-ts/proxy';
import type { GatewayCtx, Responder } from '../runtime/contracts.js';
import type { RouteConfig } from '../schema/index.js';
import { contentTypeOf } from './mime.js';
import type { PathRewrite } from './rewrite.js';
import { sendAnswer } from './responders.js';
import { sendFileBody } from './send-file.js';

type StaticConfig = NonNullable<RouteConfig['static']>;

/**
 * Builds the responder of a `static` action. `root` is resolved against `baseDir`; `rewrite` (the
 * route's path rewrite) maps the request path to the path under the root, so a route matching
 * `/assets/` can serve `root` itself with `strip_prefix: /assets`.
 *
 * @example
 * ```ts
 * const serve = staticResponder({ root: 'public', index: 'index.html', max_age: 60_000 }, '/etc/gw');
 * ```
 */
export function staticResponder(config: StaticConfig, baseDir: string, rewrite?: PathRewrite): Responder {
  const root = resolve(baseDir, config.root);
  const rootPrefix = root.endsWith(sep) ? root : root + sep;
  const cacheControl =
    config.max_age === undefined ? undefined : `public, max-age=${Math.floor(config.max_age / 1000)}`;
  const index = config.index;

  return async (session, ctx) => {
    const req = session.reqHeader();
    const method = req.method;
    if (method !== 'GET' && method !== 'HEAD') return answerStatus(session, ctx, 405, 'Allow', 'GET, HEAD');
    const urlPath = req.path();
    const decoded = decodePath(rewrite === undefined ? urlPath : rewrite(urlPath));
    if (decoded === undefined) return answerStatus(session, ctx, 400);
    if (decoded === null) return answerStatus(session, ctx, 404);
    const file = join(root, decoded);
    if (file !== root && !file.startsWith(rootPrefix)) return answerStatus(session, ctx, 404);

    let handle = await openFile(file);
    if (typeof handle === 'number') return answerStatus(session, ctx, handle);
    let name = file;
    try {
      let stat = await handle.stat();
      if (stat.isDirectory()) {
        await handle.close();
        if (!urlPath.endsWith('/')) {
          // Relative links in the index page need the slash; nginx redirects the same way.
          const q = req.query();
          return answerStatus(session, ctx, 301, 'Location', `${urlPath}/${q === undefined ? '' : `?${q}`}`);
        }
        name = join(file, index);
        const opened = await openFile(name);
        if (typeof opened === 'number') return answerStatus(session, ctx, opened);
        handle = opened;
        stat = await handle.stat();
      }
      if (!stat.isFile()) return answerStatus(session, ctx, 404);

      const etag = `"${Math.floor(stat.mtimeMs).toString(16)}-${stat.size.toString(16)}"`;
      const lastModified = stat.mtime.toUTCString();
      if (notModified(session, etag, stat.mtimeMs)) {
        const resp = ResponseHeader.build(304);
        resp.insertHeader('ETag', etag);
        resp.insertHeader('Last-Modified', lastModified);
        if (cacheControl !== undefined) resp.insertHeader('Cache-Control', cacheControl);
        return sendAnswer(session, ctx, resp);
      }
      const resp = ResponseHeader.build(200);
      resp.insertHeader('Content-Type', contentTypeOf(name));
      resp.insertHeader('Content-Length', String(stat.size));
      resp.insertHeader('ETag', etag);
      resp.insertHeader('Last-Modified', lastModified);
      if (cacheControl !== undefined) resp.insertHeader('Cache-Control', cacheControl);
      if (method === 'HEAD' || stat.size === 0) return sendAnswer(session, ctx, resp);
      ctx.route?.response?.(session, resp);
      await sendFileBody(session, resp, handle, stat.size);
    } finally {
      await handle.close().catch(() => undefined);
    }
  };
}

/**
 * The request path decoded for the file system: `undefined` when it is malformed or holds a NUL
 * (400), `null` when a segment starts with a dot or holds a backslash (404).
 */
export function decodePath(path: string): string | undefined | null {
  let decoded: string;
  try {
    decoded = path.includes('%') ? decodeURIComponent(path) : path;
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  if (decoded.includes('/.') || decoded.includes('\\') || decoded.charCodeAt(0) !== 0x2f) return null;
  return decoded;
}

// A status the file system gave us, or the open file.
async function openFile(file: string): Promise<FileHandle | number> {
  try {
    return await open(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP' || code === 'ENAMETOOLONG') return 404;
    if (code === 'EACCES' || code === 'EPERM') return 403;
    throw PingoraError.because(ErrorType.FileOpenError, `static file ${file}`, e);
  }
}

// If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2); ETags compare weakly.
function notModified(session: Session, etag: string, mtimeMs: number): boolean {
  const inm = session.getHeader('if-none-match');
  if (inm !== undefined) {
    if (inm.trim() === '*') return true;
    for (const tag of inm.split(',')) {
      const t = tag.trim();
      if ((t.startsWith('W/') ? t.slice(2) : t) === etag) return true;
    }
    return false;
  }
  const ims = session.getHeader('if-modified-since');
  if (ims === undefined) return false;
  const since = Date.parse(ims);
  // HTTP dates have whole seconds: a file modified within the second it was sent is unchanged.
  return !Number.isNaN(since) && Math.floor(mtimeMs / 1000) * 1000 <= since;
}

function answerStatus(
  session: Session,
  ctx: GatewayCtx,
  status: number,
  name?: string,
  value?: string,
): void {
  const resp = ResponseHeader.build(status);
  if (name !== undefined) resp.insertHeader(name, value!);
  resp.insertHeader('Content-Length', '0');
  sendAnswer(session, ctx, resp);
}
