/**
 * Certificates and keys as PEM data (Pingora's `CertKey`), and reading them from files with
 * errors that name the file.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { ErrorType, PingoraError } from '@pingora-ts/error';

/** PEM text or bytes; several values for a list (e.g. CAs). */
export type Pem = string | Buffer | Array<string | Buffer>;

/**
 * A certificate chain (leaf first, then intermediates, in one PEM or as a list) and its private key,
 * with the key's passphrase when it is encrypted. The one type for a listener's certificate and
 * for an upstream client certificate (`HttpPeer.clientCertKey` of @pingora-ts/core); peers compare
 * it by content (passphrase included), so equal material read per request still shares pooled
 * connections.
 *
 * @example
 * ```ts
 * const ck: CertKey = { cert: readFileSync('fullchain.pem'), key: readFileSync('key.pem') };
 * const encrypted: CertKey = { cert: readFileSync('client.pem'), key: readFileSync('client.key'), passphrase: 'secret' };
 * ```
 */
export interface CertKey {
  cert: Pem;
  key: string | Buffer;
  /** Passphrase of an encrypted key. */
  passphrase?: string;
}

function readError(path: string, err: unknown): PingoraError {
  return PingoraError.because(ErrorType.FileReadError, `cannot read ${path}`, err);
}

/** Reads a PEM file synchronously (startup). Throws a `FileReadError` naming the file. */
export function readPemFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw readError(path, err);
  }
}

/** Reads a PEM file without blocking the event loop. Rejects with a `FileReadError` naming the file. */
export async function readPemFileAsync(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw readError(path, err);
  }
}

/** Reads a certificate (chain) file and a key file (synchronously). */
export function loadCertKey(certPath: string, keyPath: string): CertKey {
  return { cert: readPemFile(certPath), key: readPemFile(keyPath) };
}

/** {@link loadCertKey} without blocking the event loop. */
export async function loadCertKeyAsync(certPath: string, keyPath: string): Promise<CertKey> {
  const [cert, key] = await Promise.all([readPemFileAsync(certPath), readPemFileAsync(keyPath)]);
  return { cert, key };
}

/** Whether `v` looks like a {@link CertKey} (as opposed to a `tls.SecureContext`). */
export function isCertKey(v: object): v is CertKey {
  return 'cert' in v && 'key' in v;
}
