/**
 * The two caching proxies of the cache benchmark, started the same way for every step: pingora-ts
 * (its built dist in a plain node process, with a control port for its memory) and nginx with
 * `proxy_cache` (one worker, keys in a shared zone, bodies in files under its own directory), plus
 * the origin's request counter that tells a hit from a miss.
 */
import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import { join } from 'node:path';
import { get } from '../lib/http-client.js';
import { startNginxProxy } from '../lib/nginx.js';
import { freePort, spawnNode, waitForTarget } from '../lib/procs.js';

/** The targets, in the order the tables list them. */
export const TARGET_NAMES = ['pingora-ts', 'nginx'] as const;
/** A target's name. */
export type TargetName = (typeof TARGET_NAMES)[number];

/** One running caching proxy. */
export interface CacheTarget {
  name: TargetName;
  port: number;
  /** The process whose CPU time and memory count (nginx runs as a single process). */
  pid: number;
  child: ChildProcess;
  /** pingora-ts: the port that reports its memory after a GC. */
  controlPort?: number;
  /** nginx: the directory its cached bodies live in. */
  cacheDir?: string;
}

/** Where the targets proxy to and keep their files. */
export interface TargetEnv {
  here: string;
  originPort: number;
  /** A temp directory for nginx's configs, logs and cache directories. */
  prefix: string;
}

/** Starts `name` on a free port and waits until it listens; `maxMiB` bounds pingora-ts's storage. */
export async function startTarget(name: TargetName, env: TargetEnv, maxMiB: number): Promise<CacheTarget> {
  const port = await freePort();
  if (name === 'pingora-ts') {
    const controlPort = await freePort();
    const child = spawnNode(
      join(env.here, 'targets/pingora-ts.mjs'),
      [port, env.originPort, controlPort, maxMiB],
      ['--expose-gc'],
    );
    await Promise.all([waitForTarget(port), waitForTarget(controlPort)]);
    return { name, port, pid: child.pid!, child, controlPort };
  }
  const cacheDir = join(env.prefix, `cache-${port}`);
  // The zone is sized for far more keys than any step caches, so nginx never evicts mid-step.
  const child = startNginxProxy({
    prefix: env.prefix,
    port,
    originPort: env.originPort,
    // The default backlog (511) would drop part of a 1,000-connection burst into SYN retries.
    listen: `listen 127.0.0.1:${port} backlog=4096;`,
    http: `proxy_cache_path ${cacheDir} levels=1:2 keys_zone=z${port}:64m inactive=1d max_size=16g use_temp_path=off;
  proxy_cache z${port};
  proxy_cache_valid 200 1h;
  proxy_cache_lock on;
  proxy_cache_lock_timeout 5s;
  proxy_cache_lock_age 10s;
  add_header X-Cache-Status $upstream_cache_status;`,
  });
  await waitForTarget(port);
  return { name, port, pid: child.pid!, child, cacheDir };
}

/** Stops a target and waits for its process to be gone. */
export async function stopTarget(t: CacheTarget): Promise<void> {
  if (t.child.exitCode !== null || t.child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => t.child.once('exit', () => resolve()));
  t.child.kill('SIGKILL');
  await gone;
}

/** What the origin has counted so far. */
export interface OriginCount {
  /** All requests. */
  total: number;
  /** Requests for the path asked about. */
  path: number;
}

/** Asks the origin's stats port how many requests it got, in all and for `path`. */
export async function originCount(statsPort: number, path = ''): Promise<OriginCount> {
  return new Promise((resolve, reject) => {
    // A fresh connection per query: a pooled one may have timed out between steps.
    http
      .get(
        { host: '127.0.0.1', port: statsPort, path: `/?path=${encodeURIComponent(path)}`, agent: false },
        (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve(JSON.parse(body) as OriginCount));
        },
      )
      .on('error', reject);
  });
}

/**
 * Fails unless `t` caches: two fetches of a fresh path must both succeed and reach the origin once.
 * A build without the proxy's cache phases proxies fine and fails here, with a message that says so.
 */
export async function checkCaching(t: CacheTarget, statsPort: number, path: string): Promise<void> {
  for (let i = 0; i < 2; i++) {
    const f = await get(t.port, path);
    if (f.status !== 200 || f.bytes !== 1024) {
      throw new Error(`${t.name}: GET ${path} answered ${f.status} with ${f.bytes} bytes (want 200, 1024)`);
    }
  }
  const seen = (await originCount(statsPort, path)).path;
  if (seen !== 1) {
    throw new Error(
      `${t.name} does not cache: the origin saw ${seen} requests for 2 fetches of ${path}` +
        (t.name === 'pingora-ts' ? ' (does this build of @pingora-ts/proxy run the cache phases?)' : ''),
    );
  }
}
