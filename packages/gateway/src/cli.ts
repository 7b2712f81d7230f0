/**
 * The `pingora-ts` binary: run the proxy a gateway file describes, check a file (`-t`), reload it
 * on SIGHUP through the zero-downtime upgrade, or run the bundled demo (`--demo`).
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Opt, processGroup, type SignalSource } from '@pingora-ts/core';
import { buildGateway } from './build.js';
import { CLI_USAGE, parseCliArgs } from './cli-args.js';
import { type DemoPorts, demoFileText, demoPorts, startDemoOrigins } from './demo-origins.js';
import {
  type ConfigProblem,
  formatProblem,
  GatewayConfigError,
  loadGatewayConfig,
  validateGatewayText,
} from './load/index.js';
import type { GatewayConfig } from './schema/index.js';

/** The demo file shipped in the package. */
export const DEMO_FILE = join(
  dirname(typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url)),
  '..',
  'demo',
  'demo.yaml',
);

type Checked = { ok: true; config: GatewayConfig } | { ok: false; problems: ConfigProblem[] };

/**
 * Reads and validates `file`; an unreadable file is one problem about the whole file (line 0).
 * `rewrite` changes the text before it is checked (the demo moved to other ports).
 */
export function checkFile(file: string, rewrite?: (text: string) => string): Checked {
  if (rewrite !== undefined) return validateGatewayText(rewrite(readFileSync(file, 'utf8')), file);
  try {
    return { ok: true, config: loadGatewayConfig(file).config };
  } catch (err) {
    if (err instanceof GatewayConfigError) return { ok: false, problems: [...err.problems] };
    throw err;
  }
}

/** Where the CLI writes; replaceable in tests. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  exit(code: number): void;
}

const processIo: CliIo = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
  exit: (c) => process.exit(c),
};

/**
 * Runs the binary with `argv` (the arguments after the script). Returns once the server runs;
 * `-t`, `-h` and errors end the process through `io.exit`.
 *
 * @example
 * ```ts
 * // bin: #!/usr/bin/env node
 * import { main } from '@pingora-ts/gateway';
 * await main(process.argv.slice(2));
 * ```
 */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<void> {
  let args: ReturnType<typeof parseCliArgs>;
  try {
    args = parseCliArgs(argv);
  } catch (err) {
    io.err(`pingora-ts: ${(err as Error).message}`);
    io.err(CLI_USAGE);
    io.exit(2);
    return;
  }
  if (args.help) {
    io.out(CLI_USAGE);
    io.exit(0);
    return;
  }
  // The demo is read by a person at a terminal, also when run through a package manager's pipe.
  if (args.demo) process.env.PINGORA_LOG_FORMAT ??= 'pretty';
  let ports: DemoPorts | undefined;
  try {
    ports = args.demo ? demoPorts() : undefined;
  } catch (err) {
    io.err(`pingora-ts: ${(err as Error).message}`);
    io.exit(2);
    return;
  }
  const rewrite = ports === undefined ? undefined : (text: string) => demoFileText(text, ports);
  const file = resolve(args.demo ? DEMO_FILE : args.conf!);
  const checked = checkFile(file, rewrite);
  if (!checked.ok) {
    for (const p of checked.problems) io.err(formatProblem(p));
    // An unreadable file is a single line already; a count only helps under a list of mistakes.
    const unreadable = checked.problems.length === 1 && checked.problems[0]!.line === 0;
    if (!unreadable)
      io.err(`${file}: ${checked.problems.length} problem${checked.problems.length === 1 ? '' : 's'}`);
    io.exit(1);
    return;
  }
  const config = checked.config;
  if (args.test) {
    io.out(
      `${file}: ok (${config.listeners.length} listener(s), ${Object.keys(config.upstreams).length} upstream(s), ${config.routes.length} route(s))`,
    );
    io.exit(0);
    return;
  }
  const opt = new Opt({ daemon: args.daemon, upgrade: args.upgrade });
  let gateway: ReturnType<typeof buildGateway>;
  try {
    gateway = buildGateway(config, {
      file,
      baseDir: dirname(file),
      opt,
      serverOptions: { signals: reloadingSignals(file, io, args.demo) },
    });
  } catch (err) {
    io.err(`${file}: ${(err as Error).message}`);
    io.exit(1);
    return;
  }
  const { server } = gateway;
  server.bootstrap();
  // A disk cache opens before the first request, so the first requests are cached too.
  await gateway.ready();
  if (ports !== undefined && processGroup.role !== 'worker') {
    try {
      await startDemoOrigins(ports);
    } catch (err) {
      // A port in use (another demo, or a successor of this one): one line, not a stack.
      io.err(`pingora-ts: ${(err as Error).message}`);
      io.exit(1);
      return;
    }
    const proxy = `127.0.0.1:${ports.proxy}`;
    io.out(`demo origins on 127.0.0.1:${ports.origins.join(', ')}; the proxy on http://${proxy}/ — try:`);
    io.out(`  curl -i ${proxy}/               (what to try next)`);
    io.out(`  curl -i ${proxy}/api/hello      (round robin, health-checked)`);
    io.out(`  curl -i ${proxy}/cached/page    (twice: x-cache-status miss, then hit)`);
    io.out(`  curl -i ${proxy}/limited/x      (more than 5 a second: 429)`);
    io.out(`  curl -s 127.0.0.1:${ports.metrics}/metrics        (Prometheus)`);
  }
  await server.runForever();
}

/**
 * The process's signals, plus SIGHUP: check the file again and, when it is valid, run the
 * SIGUSR2 upgrade (a successor started with the same command line reads the new file); when it
 * is not, log its mistakes and keep serving. The demo has nothing to reload.
 */
function reloadingSignals(file: string, io: CliIo, demo: boolean): SignalSource {
  let upgrade: (() => void) | undefined;
  const onHup = () => {
    if (demo) {
      // The bundled file never changes, and a successor could not start the origins this process holds.
      io.err('SIGHUP: the demo runs its bundled file, which does not change; nothing to reload');
      return;
    }
    const checked = checkFile(file);
    if (!checked.ok) {
      io.err(
        `SIGHUP: ${file} not applied (${checked.problems.length} problem(s)); still serving the running configuration`,
      );
      for (const p of checked.problems) io.err(formatProblem(p));
      return;
    }
    io.err(`SIGHUP: ${file} is valid; upgrading to it`);
    upgrade?.();
  };
  return {
    on(signal, listener) {
      if (signal === 'SIGUSR2') {
        upgrade = listener;
        process.on('SIGHUP', onHup);
      }
      process.on(signal, listener);
      return this;
    },
    off(signal, listener) {
      if (signal === 'SIGUSR2') {
        upgrade = undefined;
        process.off('SIGHUP', onHup);
      }
      process.off(signal, listener);
      return this;
    },
  };
}
