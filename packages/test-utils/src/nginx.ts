/**
 * nginx (Debian's) as a peer in tests and benchmarks: a config with the common part written for
 * you (one worker, foreground, no master, everything under a private prefix, no access log), run in
 * the foreground so killing the child stops it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onClose } from './closers.js';
import { freePort, type WaitForPortOptions, waitForPort } from './ports.js';

/** What {@link spawnNginx} runs. */
export interface NginxOptions {
  /** Directory for the config, error log, pid file and temp files; created if missing. */
  prefix: string;
  /** The port the config listens on; it names the config file, so one prefix can hold several. */
  port: number;
  /** Directives inside `http { … }` after the common ones: upstreams, servers, tuning. */
  http: string;
  /** `worker_connections`. Default 4096. */
  workerConnections?: number;
}

/** The whole config for `options`: the common directives around `options.http`. */
export function nginxConfig(options: NginxOptions): string {
  const { prefix, http, workerConnections = 4096 } = options;
  return `worker_processes 1;
daemon off;
master_process off;
error_log ${join(prefix, 'error.log')} warn;
pid ${join(prefix, 'nginx.pid')};
events { worker_connections ${workerConnections}; }
http {
  access_log off;
  client_body_temp_path ${join(prefix, 'tmp')};
  proxy_temp_path ${join(prefix, 'tmp')};
${http}
}
`;
}

/** Writes the config into the prefix and starts nginx in the foreground (not waiting for the port). */
export function spawnNginx(options: NginxOptions): ChildProcess {
  const { prefix, port } = options;
  mkdirSync(join(prefix, 'tmp'), { recursive: true });
  const conf = join(prefix, `nginx-${port}.conf`);
  writeFileSync(conf, nginxConfig(options));
  return spawn('nginx', ['-p', prefix, '-c', conf, '-e', join(prefix, 'error.log')], { stdio: 'ignore' });
}

/** A running nginx from {@link startNginx}. */
export interface TestNginx {
  port: number;
  prefix: string;
  child: ChildProcess;
}

/**
 * nginx on a free 127.0.0.1 port in a fresh temp prefix, once it accepts connections. `http`
 * builds the `http { … }` directives for the port. {@link closeAll} kills it and removes the prefix.
 *
 * @example
 * ```ts
 * const nginx = await startNginx((port) => `server { listen 127.0.0.1:${port}; return 200; }`);
 * ```
 */
export async function startNginx(
  http: (port: number, prefix: string) => string,
  options: Pick<NginxOptions, 'workerConnections'> & WaitForPortOptions = {},
): Promise<TestNginx> {
  const prefix = mkdtempSync(join(tmpdir(), 'pingora-ts-nginx-'));
  const port = await freePort();
  const { workerConnections } = options;
  const child = spawnNginx({ prefix, port, http: http(port, prefix), workerConnections });
  onClose(() => {
    child.kill('SIGKILL');
    rmSync(prefix, { recursive: true, force: true });
  });
  await waitForPort(port, options);
  return { port, prefix, child };
}
