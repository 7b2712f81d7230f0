/**
 * Test support for the example files of `examples/configs`: read one, point its addresses at
 * this machine (free ports, test origins), write it with generated certificates into a temp copy
 * of its directory, and run it through `buildGateway` as the binary would, without the process
 * handling of `runForever`. Only addresses change, so what runs is the file a user would copy.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '@pingora-ts/core';
import {
  type CapturedLog,
  memoryLogger,
  onClose,
  peersRequired,
  type TestOrigin,
  startOrigin,
} from '@pingora-ts/test-utils';
import { type Document, parseDocument } from 'yaml';
import { buildGateway, type Gateway } from '../src/build.js';
import { formatProblem, validateGatewayText } from '../src/load/index.js';

/** The directory of the example files. */
export const EXAMPLES_DIR = fileURLToPath(new URL('../../../examples/configs/', import.meta.url));

/** The text of one example file, as committed. */
export function exampleText(file: string): string {
  return readFileSync(join(EXAMPLES_DIR, file), 'utf8');
}

/** Validates `text`; throws with every problem when it is not valid, so the test names them. */
export function validOrThrow(text: string, file: string) {
  const result = validateGatewayText(text, file);
  if (!result.ok) throw new Error(result.problems.map(formatProblem).join('\n'));
  return result.config;
}

/**
 * Whether the tests needing the openssl CLI run (the house rule of `requirePeer`, which asks
 * `--version`: openssl only knows `version`). Missing and not required: skipped with a warning.
 */
export function opensslAvailable(): boolean {
  if (spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0) return true;
  if (peersRequired()) return true;
  console.warn('skipping the TLS example tests: openssl is not installed (PINGORA_TS_REQUIRE_PEERS=1 fails)');
  return false;
}

/**
 * A self-signed certificate for `name` (also its CA for clients), written as
 * `<dir>/<name>.pem` and `<dir>/<name>.key` with the openssl CLI. Returns the certificate PEM.
 */
export function generateCert(dir: string, name: string, altNames: readonly string[] = [name]): string {
  mkdirSync(dir, { recursive: true });
  const cert = join(dir, `${name}.pem`);
  const san = altNames.map((n) => `DNS:${n}`).join(',');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-addext',
      `subjectAltName=${san}`,
      '-keyout',
      join(dir, `${name}.key`),
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  return readFileSync(cert, 'utf8');
}

/** A running example. */
export interface RunningExample {
  gateway: Gateway;
  /** The access log and everything else the server logged. */
  logs: CapturedLog[];
  /** The temp directory holding the file (and its certificates). */
  dir: string;
}

/** Extras of {@link runExample}. */
export interface RunExampleOptions {
  /** Called with the temp directory first, to write certificates where the file expects them. */
  prepare?: (dir: string) => void;
  /** The text to run instead of the committed one (a commented variant switched on). */
  text?: string;
}

/**
 * Runs an example after `edit` has changed its addresses in the parsed document. Stopped fast by
 * `closeAll`, with the temp directory removed.
 */
export async function runExample(
  file: string,
  edit: (doc: Document) => void,
  options: RunExampleOptions = {},
): Promise<RunningExample> {
  const doc = parseDocument(options.text ?? exampleText(file));
  edit(doc);
  const text = doc.toString();
  const dir = mkdtempSync(join(tmpdir(), 'pingora-ts-example-'));
  onClose(() => rmSync(dir, { recursive: true, force: true }));
  options.prepare?.(dir);
  const path = join(dir, file);
  writeFileSync(path, text);
  const logger = memoryLogger();
  const gateway = await startGatewayFile(text, path, logger as unknown as Logger);
  return { gateway, logs: logger.lines, dir };
}

/**
 * Validates `text` (written at `path`), builds the gateway it describes as the binary would and
 * starts it without the process handling of `runForever`. Stopped fast by `closeAll`.
 */
export async function startGatewayFile(text: string, path: string, logger: Logger): Promise<Gateway> {
  const gateway = buildGateway(validOrThrow(text, path), {
    file: path,
    baseDir: dirname(path),
    logger,
    serverOptions: {
      exit: (code) => {
        throw new Error(`the server asked to exit ${code}`);
      },
    },
  });
  gateway.server.bootstrap();
  onClose(async () => {
    await gateway.server.shutdown({ graceful: false });
    await gateway.close();
  });
  await gateway.server.start();
  await gateway.ready();
  return gateway;
}

/** What the {@link startEchoOrigin} origins answer: who they are and what they received. */
export interface Echo {
  origin: string;
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** An origin that can be stopped alone (the others keep running). */
export interface NamedOrigin extends TestOrigin {
  name: string;
  /** Requests received, health checks excluded. */
  hits: number;
  /** Status `GET /health` and `/healthz` answer; 200 until changed. */
  health: number;
  stop(): Promise<void>;
}

/**
 * An origin answering every request with a JSON {@link Echo}; `extra` may add response headers
 * or answer itself (return true). Health checks get `origin.health`.
 */
export async function startEchoOrigin(
  name: string,
  extra?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean | undefined,
): Promise<NamedOrigin> {
  let named: NamedOrigin | undefined;
  const origin = await startOrigin((req, res) => {
    const self = named!;
    if (req.url === '/health' || req.url === '/healthz') {
      res.statusCode = self.health;
      res.end();
      return;
    }
    self.hits++;
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (extra?.(req, res)) return;
      const echo: Echo = {
        origin: name,
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(echo));
    });
  });
  const stop = () =>
    new Promise<void>((r) => {
      origin.server.closeAllConnections();
      origin.server.close(() => r());
    });
  named = Object.assign(origin, { name, hits: 0, health: 200, stop });
  return named;
}

/** Sets `path` (a list of keys and indexes) in `doc` to `value`, failing when it is not there. */
export function setIn(doc: Document, path: (string | number)[], value: unknown): void {
  if (!doc.hasIn(path)) throw new Error(`the example has no ${path.join('.')}`);
  doc.setIn(path, value);
}
