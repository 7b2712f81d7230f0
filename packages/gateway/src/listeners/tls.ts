/**
 * A listener's `tls` section as `TlsSettings`: the default certificate, certificates per server
 * name (exact names and `*.example.com` wildcards), client certificates (mTLS), ALPN and the
 * handshake timeout. Every file is read and every certificate checked at build time, so a bad
 * file stops the start with its key named instead of failing handshakes later.
 */
import { type CertKey, TlsSettings } from '@pingora-ts/core';
import type { BuildContext } from '../runtime/contracts.js';
import type { ListenerTls } from '../schema/index.js';
import { configError, keySegment, readCaFile, readConfigFile } from '../upstreams/pem-file.js';

const VERIFY_MODES = { none: 'none', optional: 'peer', require: 'require' } as const;

/**
 * Picks the certificate for a server name: an exact entry first, then a wildcard one label up
 * (`*.example.com` answers `a.example.com`, not `example.com` nor `a.b.example.com`).
 */
export class SniCertificates {
  readonly #exact = new Map<string, CertKey>();
  readonly #wildcard = new Map<string, CertKey>();

  /** Adds the certificate for `name` (`example.com` or `*.example.com`, any case). */
  add(name: string, certKey: CertKey): void {
    const lower = name.toLowerCase();
    if (lower.startsWith('*.')) this.#wildcard.set(lower.slice(2), certKey);
    else this.#exact.set(lower, certKey);
  }

  /** The certificate for `servername`, or undefined for the default one. */
  lookup(servername: string): CertKey | undefined {
    const name = servername.toLowerCase();
    const exact = this.#exact.get(name);
    if (exact !== undefined || this.#wildcard.size === 0) return exact;
    const dot = name.indexOf('.');
    return dot <= 0 ? undefined : this.#wildcard.get(name.slice(dot + 1));
  }
}

/**
 * Builds the TLS settings of one listener.
 * @param keyPath the section's key path for errors, e.g. `listeners[0].tls`.
 * @throws Error `"<keyPath>.cert: cannot read <path>: <reason>"` for an unreadable file, or naming
 *   the key when a certificate and key do not form a usable pair.
 *
 * @example
 * ```ts
 * service.addTlsWithSettings('0.0.0.0:443', undefined, listenerTlsSettings(listener.tls, 'listeners[0].tls', ctx));
 * ```
 */
export function listenerTlsSettings(tls: ListenerTls, keyPath: string, ctx: BuildContext): TlsSettings {
  const defaultCert = readPair(tls.cert, tls.key, keyPath, ctx);
  const sni = new SniCertificates();
  const entries = Object.entries(tls.sni ?? {});
  const settings =
    entries.length === 0
      ? usable(keyPath, () => TlsSettings.fromPem(defaultCert.cert, defaultCert.key))
      : TlsSettings.withCallbacks({ certificateCallback: (servername) => sni.lookup(servername) });
  if (entries.length > 0) usable(keyPath, () => settings.setCertificate(defaultCert));
  if (tls.client_ca !== undefined) {
    const ca = readCaFile(ctx.baseDir, tls.client_ca, `${keyPath}.client_ca`);
    usable(`${keyPath}.client_ca`, () => settings.setCa(ca));
  }
  settings.setVerify(VERIFY_MODES[tls.client_auth]);
  settings.setAlpn(tls.alpn);
  if (tls.handshake_timeout !== undefined) settings.setHandshakeTimeout(tls.handshake_timeout);
  for (const [name, files] of entries) {
    const entryPath = `${keyPath}.sni${keySegment(name)}`;
    const certKey = readPair(files.cert, files.key, entryPath, ctx);
    // Built once here only to fail now on a bad pair; handshakes build their own, cached.
    usable(entryPath, () => settings.createSecureContext(certKey));
    sni.add(name, certKey);
  }
  return settings;
}

function readPair(cert: string, key: string, keyPath: string, ctx: BuildContext): CertKey {
  return {
    cert: readConfigFile(ctx.baseDir, cert, `${keyPath}.cert`),
    key: readConfigFile(ctx.baseDir, key, `${keyPath}.key`),
  };
}

function usable<T>(keyPath: string, build: () => T): T {
  try {
    return build();
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw configError(keyPath, `certificate or key not usable (${why})`, err);
  }
}
