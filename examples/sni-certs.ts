/**
 * A certificate per host name (SNI), loaded from a directory and reloaded when its files change:
 * `<dir>/<host>.pem` (chain) + `<dir>/<host>.key`. The certificate callback is async and returns
 * a cached `SecureContext`; a file change drops that host's entry, so the next handshake loads
 * the new pair while open connections keep the certificate they were accepted with. A pair
 * caught half-written (new cert, old key) does not break the site: the previous certificate is
 * served until both files match. Clients without SNI get `default.pem`/`default.key`.
 *
 *   pnpm --filter @pingora-ts/examples sni-certs
 *   # curl --cacert ../packages/tls-openssl/test/fixtures/ca.pem --resolve a.test:6196:127.0.0.1 https://a.test:6196/
 *   # cp new.pem certs/a.test.pem && cp new.key certs/a.test.key   → next handshake serves it
 *
 * The demo uses the repository's TEST-ONLY certificates (packages/tls-openssl/test/fixtures).
 */
import { type FSWatcher, copyFileSync, mkdtempSync, readFileSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { SecureContext } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { HttpPeer, type Logger, noopLogger, Server, TlsSettings } from '@pingora-ts/core';
import { httpProxyService } from '@pingora-ts/proxy';
import { loadCertKeyAsync } from '@pingora-ts/tls-openssl';
import { isMain, startDemoOrigin } from './lib/demo-origins.js';
import { type Running, startServices } from './lib/run.js';

/** The repository's test certificates, used by the demo. */
export const TEST_CERTS = fileURLToPath(new URL('../packages/tls-openssl/test/fixtures/', import.meta.url));

interface Entry {
  ctx: SecureContext | undefined;
  /** Bumped by every file change; the entry is current when it equals `loaded`. */
  version: number;
  loaded: number;
  loading: Promise<SecureContext | undefined> | undefined;
}

/** Certificates of a directory, one per host name, loaded on first use and reloaded on change. */
export class CertDirectory {
  readonly #entries = new Map<string, Entry>();
  #watcher: FSWatcher | undefined;
  /** Certificates loaded so far, reloads included. */
  loads = 0;

  constructor(
    readonly dir: string,
    readonly logger: Logger = noopLogger,
  ) {}

  /** The context for `host`, or `undefined` when the directory has no certificate for it. */
  get(host: string, settings: TlsSettings): Promise<SecureContext | undefined> | SecureContext | undefined {
    // Host names come from the client: refuse anything that is not a plain name before touching the disk.
    if (!/^[a-z0-9.-]{1,253}$/i.test(host) || host.includes('..')) return undefined;
    let e = this.#entries.get(host);
    if (e === undefined) {
      e = { ctx: undefined, version: 1, loaded: 0, loading: undefined };
      this.#entries.set(host, e);
    }
    if (e.loaded === e.version) return e.ctx;
    if (e.loading === undefined) e.loading = this.#load(host, e, settings);
    return e.loading;
  }

  async #load(host: string, e: Entry, settings: TlsSettings): Promise<SecureContext | undefined> {
    const version = e.version;
    try {
      const ck = await loadCertKeyAsync(join(this.dir, `${host}.pem`), join(this.dir, `${host}.key`));
      e.ctx = settings.createSecureContext(ck);
      this.loads++;
      this.logger.info({ host }, 'certificate loaded');
    } catch (err) {
      // Missing, unreadable or mismatched (a pair caught half-copied): keep what we had and
      // wait for the next change.
      this.logger.warn({ host, err }, 'certificate not loaded; keeping the previous one');
    }
    // A change that arrived while loading leaves the entry stale, so it is loaded again.
    e.loaded = version;
    e.loading = undefined;
    return e.ctx;
  }

  /** Marks `host` for reload on its next handshake. */
  invalidate(host: string): void {
    const e = this.#entries.get(host);
    if (e !== undefined) e.version++;
  }

  /** Watches the directory: any change to `<host>.pem` or `<host>.key` invalidates `<host>`. */
  watch(): this {
    this.#watcher = watch(this.dir, (_event, file) => {
      if (file === null) {
        for (const host of this.#entries.keys()) this.invalidate(host);
        return;
      }
      const name = basename(file.toString());
      const m = /^(.+)\.(pem|key)$/.exec(name);
      if (m !== null) this.invalidate(m[1]!);
    });
    this.#watcher.on('error', (err) => this.logger.error({ err }, 'certificate directory watch failed'));
    return this;
  }

  /** Stops watching. */
  close(): void {
    this.#watcher?.close();
  }
}

/** TLS settings serving `dir`'s certificates by SNI, with `default.pem` for clients without SNI. */
export function sniSettings(certs: CertDirectory): TlsSettings {
  const settings: TlsSettings = TlsSettings.withCallbacks({
    certificateCallback: (servername) => certs.get(servername, settings),
  });
  settings.setCertificate({
    cert: readFileSync(join(certs.dir, 'default.pem')),
    key: readFileSync(join(certs.dir, 'default.key')),
  });
  return settings;
}

/** A TLS proxy on `port` serving the certificates of `certDir` in front of `origin`. */
export async function main(
  port: number,
  certDir: string,
  origin: string,
): Promise<Running & { certs: CertDirectory }> {
  const certs = new CertDirectory(certDir).watch();
  const proxy = httpProxyService(new Server(null).configuration, {
    upstreamPeer: () => new HttpPeer(origin, false, ''),
    upstreamRequestFilter(session, up) {
      up.insertHeader('X-Forwarded-Proto', 'https');
      up.insertHeader('X-Forwarded-Host', session.downstream.digest().sslDigest?.servername ?? '');
    },
  });
  proxy.addTlsWithSettings(`127.0.0.1:${port}`, undefined, sniSettings(certs));
  const running = await startServices([proxy], [async () => certs.close()]);
  return { ...running, certs };
}

/** A fresh directory with the demo certificates: a.test, b.test, and localhost as the default. */
export function demoCertDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pingora-ts-sni-'));
  for (const host of ['a.test', 'b.test']) {
    for (const ext of ['pem', 'key'])
      copyFileSync(join(TEST_CERTS, `${host}.${ext}`), join(dir, `${host}.${ext}`));
  }
  copyFileSync(join(TEST_CERTS, 'localhost.pem'), join(dir, 'default.pem'));
  copyFileSync(join(TEST_CERTS, 'localhost.key'), join(dir, 'default.key'));
  return dir;
}

if (isMain(import.meta.url)) {
  const o = await startDemoOrigin('sni-origin');
  const dir = process.argv[2] ?? demoCertDir();
  await main(6196, dir, o.addr);
  console.log(`TLS proxy on :6196 with certificates from ${dir} (reloaded on change). Try:`);
  console.log(
    `  curl --cacert ${join(TEST_CERTS, 'ca.pem')} --resolve a.test:6196:127.0.0.1 https://a.test:6196/`,
  );
}
