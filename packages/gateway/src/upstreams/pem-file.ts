/**
 * Reading the certificate, key and CA files a gateway file names. Read once, at build time,
 * relative to the file's directory; a failure names the key and the path as written, so the
 * operator sees `upstreams.api.tls.ca: cannot read ./ca.pem: no such file` and not a stack trace.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

// Plain words for the errors a misconfigured path gives most often.
const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'a parent is not a directory',
  ELOOP: 'too many symbolic links',
};

/** An Error whose message starts with the config key it is about: `key: what is wrong`. */
export function configError(keyPath: string, what: string, cause?: unknown): Error {
  return new Error(`${keyPath}: ${what}`, cause === undefined ? undefined : { cause });
}

/** `path` as the gateway resolves it: absolute paths as they are, others from `baseDir`. */
export function resolveConfigPath(baseDir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(baseDir, path);
}

/**
 * Reads the file at `path` (relative to `baseDir`).
 * @throws Error `"<keyPath>: cannot read <path>: <reason>"`.
 *
 * @example
 * ```ts
 * const ca = readConfigFile('/etc/gw', './ca.pem', 'upstreams.api.tls.ca');
 * ```
 */
export function readConfigFile(baseDir: string, path: string, keyPath: string): Buffer {
  try {
    return readFileSync(resolveConfigPath(baseDir, path));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = (code !== undefined ? ERRNO_TEXT[code] : undefined) ?? code ?? String(err);
    throw configError(keyPath, `cannot read ${path}: ${reason}`, err);
  }
}

/**
 * Reads a CA bundle: {@link readConfigFile}, and at least one PEM certificate in it (node ignores
 * text that is not PEM without a word, so a wrong file would trust nothing, silently).
 * @throws Error `"<keyPath>: <path> is not usable PEM (no certificate in it)"`.
 */
export function readCaFile(baseDir: string, path: string, keyPath: string): Buffer {
  const ca = readConfigFile(baseDir, path, keyPath);
  if (!ca.includes('-----BEGIN CERTIFICATE-----')) {
    throw configError(keyPath, `${path} is not usable PEM (no certificate in it)`);
  }
  return ca;
}

/** Formats a key path segment: `.name`, or `["name"]` when the name has characters a dot path cannot hold. */
export function keySegment(name: string): string {
  return /^[A-Za-z0-9_-]+$/.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`;
}
