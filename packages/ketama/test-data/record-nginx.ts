/**
 * Records golden data from a real nginx: which upstream `hash $arg_k consistent` picks for each
 * key, over several upstream sets. Run from packages/ketama:
 *
 *   pnpm exec tsx test-data/record-nginx.ts            # writes test-data/nginx-golden.json
 *   NGINX=/path/to/nginx pnpm exec tsx test-data/record-nginx.ts
 *
 * It starts one nginx (no daemon, no master process) on loopback with a generated config: one
 * backend `server` listening on every upstream address and answering 200, and one front `server`
 * with a `location /<set>/` per upstream block that proxies there and returns the pick in an
 * `X-Upstream: $upstream_addr` header. Keys are deterministic (seeded), so a re-run on the same
 * nginx and libc must reproduce the file byte for byte except for the `recorded` date.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
// mulberry32: seeded, so the key lists are reproducible.
import { freePort, mulberry32 as rng, waitForPort } from '@pingora-ts/test-utils';
import { Bucket } from '../src/bucket.js';
import { crc32 } from '../src/crc32.js';
import { buildRingTs, POINT_MULTIPLE } from '../src/ring.js';

const here = dirname(fileURLToPath(import.meta.url));
const NGINX = process.env.NGINX ?? 'nginx';
const KEYS_PER_SET = 300;

type Server = [server: string, weight: number];
interface GoldenSet {
  name: string;
  note: string;
  servers: Server[];
  keys: string[];
}

// Characters that travel raw in a query string and that nginx leaves alone in $arg_k.
const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/:@!$()*,;';
const UNICODE = ['é', 'ß', 'ж', '漢', '字', 'ü', '€', '😀', '🦀', 'Ω'];

function randomKeys(seed: number, n: number, unicode = false): string[] {
  const r = rng(seed);
  const keys = new Set<string>();
  while (keys.size < n) {
    const len = 1 + Math.floor(r() * 40);
    let k = '';
    for (let i = 0; i < len; i++) {
      k +=
        unicode && r() < 0.3
          ? UNICODE[Math.floor(r() * UNICODE.length)]
          : ALPHABET[Math.floor(r() * ALPHABET.length)];
    }
    keys.add(k);
  }
  return [...keys];
}

function pointsOf(server: string, weight: number): Uint32Array {
  return buildRingTs([new Bucket(server, weight)], 'nginx').hashes;
}

/** Two 127.0.0.x servers whose point sets share at least `min` hashes, found by search. */
function collidingPair(weight: number, min: number): [string, string, number[]] {
  for (let x = 2; x < 250; x++) {
    const a = `127.0.0.${x}:22000`;
    const b = `127.0.0.${x + 1}:22000`;
    const pa = new Set(pointsOf(a, weight));
    const shared = [...pointsOf(b, weight)].filter((h) => pa.has(h));
    if (shared.length >= min) return [a, b, shared];
  }
  throw new Error('no colliding pair found');
}

/** Keys whose CRC falls in the ring interval served by each shared hash (prev point, h]. */
function keysOntoPoints(servers: Server[], targets: number[], perTarget: number): string[] {
  const ring = buildRingTs(
    servers.map(([s, w]) => new Bucket(s, w)),
    'nginx',
  ).hashes;
  const out: string[] = [];
  for (const h of targets) {
    const at = ring.indexOf(h);
    const lo = at > 0 ? ring[at - 1]! : -1;
    let found = 0;
    for (let i = 0; found < perTarget && i < 50_000_000; i++) {
      const k = `collide-${h.toString(16)}-${i}`;
      const c = crc32(k);
      if (c > lo && c <= h) {
        out.push(k);
        found++;
      }
    }
  }
  return out;
}

function buildSets(): GoldenSet[] {
  const v4 = (n: number, port: number): Server[] =>
    Array.from({ length: n }, (_, i) => [`127.0.0.${i + 1}:${port}`, 1] as Server);
  const r = rng(42);
  const hundred: Server[] = Array.from({ length: 100 }, (_, i) =>
    i % 2 === 0
      ? ([`127.0.${1 + Math.floor(i / 50)}.${(i % 50) + 10}:21000`, 1 + Math.floor(r() * 4)] as Server)
      : ([`[::1]:${21000 + i}`, 1 + Math.floor(r() * 4)] as Server),
  );
  const [ca, cb, shared] = collidingPair(1000, 3);
  const collide: Server[] = [
    [ca, 1000],
    [cb, 1000],
  ];
  const collideKeys = keysOntoPoints(collide, shared, 8);
  const sets: GoldenSet[] = [
    {
      name: 'pingora-two',
      note: "pingora-ketama's matches_nginx_sample servers and keys",
      servers: v4(1, 7777).concat([['127.0.0.1:7778', 1]]),
      keys: [
        '/some/path',
        '/some/longer/path',
        '/sad/zaidoon',
        '/g',
        '/pingora/team/is/cool/and/this/is/a/long/uri',
        '/i/am/not/confident/in/this/code',
      ],
    },
    {
      name: 'three-v4',
      note: '3 IPv4 servers of weight 1 (node_iter vector servers)',
      servers: [
        ['127.0.0.1:7777', 1],
        ['127.0.0.1:7778', 1],
        ['127.0.0.1:7779', 1],
      ],
      keys: ['doghash'],
    },
    {
      name: 'two-v4-dropped',
      note: 'three-v4 without 127.0.0.1:7778',
      servers: [
        ['127.0.0.1:7777', 1],
        ['127.0.0.1:7779', 1],
      ],
      keys: ['doghash'],
    },
    {
      name: 'three-v6',
      note: 'IPv6 servers: nginx hashes "[::1]" with brackets, pingora-ketama hashes "::1"',
      servers: [
        ['[::1]:7777', 1],
        ['[::1]:7778', 1],
        ['[::1]:7779', 1],
      ],
      keys: ['doghash'],
    },
    {
      name: 'weights-1-2-3',
      note: "pingora-ketama's doc example",
      servers: [
        ['127.0.0.1:12345', 1],
        ['127.0.0.2:12345', 2],
        ['127.0.0.3:12345', 3],
      ],
      keys: ['some_key', 'another_key', 'last_key'],
    },
    { name: 'ten', note: '127.0.0.1..10:6443', servers: v4(10, 6443), keys: ['a', 'b'] },
    { name: 'eleven', note: 'ten plus 127.0.0.11:6443', servers: v4(11, 6443), keys: ['a', 'b'] },
    {
      name: 'mixed',
      note: 'IPv4 and IPv6, weights 1..5',
      servers: [
        ['127.0.0.20:20001', 1],
        ['[::1]:20002', 2],
        ['127.0.0.21:20003', 5],
        ['[::1]:20004', 1],
        ['127.0.0.22:20001', 3],
      ],
      keys: [],
    },
    {
      name: 'spelling',
      note: 'non-canonical address text: nginx hashes the server line as written',
      servers: [
        ['[0:0:0:0:0:0:0:1]:20010', 1],
        ['127.0.0.1:020011', 1],
        ['[::ffff:127.0.0.1]:20012', 1],
        ['[0:0:0:0:0:FFFF:7F00:3]:20014', 2],
        ['[::1]:20013', 1],
      ],
      keys: [],
    },
    { name: 'hundred', note: '100 servers, IPv4 and IPv6, weights 1..4', servers: hundred, keys: [] },
    {
      name: 'collide',
      note: `two servers of weight 1000 sharing ${shared.length} point hashes; keys aimed at those points`,
      servers: collide,
      keys: collideKeys,
    },
    {
      name: 'collide-reversed',
      note: 'collide with the two servers in the other order: the earlier server keeps a shared point',
      servers: [...collide].reverse(),
      keys: collideKeys,
    },
    {
      name: 'utf8-keys',
      note: 'keys with non-ASCII characters, sent as raw UTF-8 in the query string',
      servers: [
        ['127.0.0.1:7777', 1],
        ['127.0.0.1:7778', 1],
        ['127.0.0.1:7779', 1],
      ],
      keys: [],
    },
  ];
  sets.forEach((s, i) => {
    // eleven reuses ten's keys, so the two files show which keys moved when a server was added.
    const seed = s.name === 'eleven' ? 1000 + sets.findIndex((t) => t.name === 'ten') : 1000 + i;
    const extra = randomKeys(seed, KEYS_PER_SET, s.name === 'utf8-keys');
    s.keys = [...new Set([...s.keys, ...extra])];
  });
  return sets;
}

/** The address nginx should listen on for an upstream server line (canonical form). */
function listenAddr(server: string): string {
  const b = new Bucket(server, 1);
  return b.family === 6 && b.ip.startsWith('::ffff:') && b.ip.includes('.')
    ? `${b.ip.slice(7)}:${b.port}` // IPv4-mapped: the connection lands on the IPv4 listener
    : b.addr;
}

function nginxConf(dir: string, frontPort: number, sets: GoldenSet[]): string {
  const listens = [...new Set(sets.flatMap((s) => s.servers.map(([srv]) => listenAddr(srv))))].sort();
  const upstreams = sets.map(
    (s) =>
      `    upstream ${s.name} {\n        hash $arg_k consistent;\n${s.servers
        .map(([srv, w]) => `        server ${srv} weight=${w} max_fails=0;\n`)
        .join('')}    }\n`,
  );
  const locations = sets.map(
    (s) => `        location /${s.name}/ {\n            proxy_pass http://${s.name};\n        }\n`,
  );
  return `# Generated by test-data/record-nginx.ts
daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path ${dir}/client_body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
    proxy_next_upstream off;
    proxy_connect_timeout 2s;

${upstreams.join('\n')}
    # Backend: every upstream address, answering 200.
    server {
${listens.map((l) => `        listen ${l};\n`).join('')}        location / { return 200 "ok\\n"; }
    }

    # Front: /<set>/?k=<key> is hashed by the <set> upstream block; the pick comes back in X-Upstream.
    server {
        listen 127.0.0.1:${frontPort};
        add_header X-Upstream $upstream_addr always;
${locations.join('')}    }
}
`;
}

/** One request over a raw socket, so UTF-8 bytes go into the request line unescaped. */
function ask(port: number, set: string, key: string): Promise<{ status: number; upstream: string }> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    sock.setTimeout(10_000, () => sock.destroy(new Error('timeout')));
    sock.on('data', (c) => chunks.push(c));
    sock.on('error', reject);
    sock.on('end', () => {
      const head = Buffer.concat(chunks).toString('latin1').split('\r\n\r\n')[0] ?? '';
      const status = Number(head.split(' ')[1]);
      const m = /^x-upstream: (.*)$/im.exec(head);
      if (!m) reject(new Error(`no X-Upstream for ${set} ${key}: ${head}`));
      else resolve({ status, upstream: m[1]!.trim() });
    });
    sock.write(
      Buffer.from(`GET /${set}/?k=${key} HTTP/1.1\r\nHost: golden\r\nConnection: close\r\n\r\n`, 'utf8'),
    );
  });
}

function jsonOut(
  meta: Record<string, unknown>,
  results: { set: GoldenSet; picks: [string, string][] }[],
): string {
  const lines = ['{'];
  for (const [k, v] of Object.entries(meta)) lines.push(`  ${JSON.stringify(k)}: ${JSON.stringify(v)},`);
  lines.push('  "sets": [');
  results.forEach(({ set, picks }, i) => {
    lines.push('    {');
    lines.push(`      "name": ${JSON.stringify(set.name)},`);
    lines.push(`      "note": ${JSON.stringify(set.note)},`);
    lines.push(`      "servers": ${JSON.stringify(set.servers)},`);
    lines.push('      "picks": [');
    for (const [j, p] of picks.entries()) {
      lines.push(`        ${JSON.stringify(p)}${j + 1 < picks.length ? ',' : ''}`);
    }
    lines.push('      ]');
    lines.push(`    }${i + 1 < results.length ? ',' : ''}`);
  });
  lines.push('  ]', '}', '');
  return lines.join('\n');
}

async function main(): Promise<void> {
  // nginx -v prints to stderr.
  const nginxVersion = execFileSync('sh', ['-c', `"${NGINX}" -v 2>&1`], { encoding: 'utf8' }).trim();
  let libc = 'unknown';
  try {
    libc = execFileSync('sh', ['-c', 'ldd --version 2>&1 | head -n1'], { encoding: 'utf8' }).trim();
  } catch {
    // not fatal: recorded for information only
  }
  const sets = buildSets();
  const dir = mkdtempSync(join(tmpdir(), 'ketama-nginx-'));
  const frontPort = await freePort();
  const conf = nginxConf(dir, frontPort, sets);
  writeFileSync(join(dir, 'nginx.conf'), conf);
  writeFileSync(
    join(here, 'nginx-golden.conf'),
    conf.replaceAll(dir, '$TMP').replace(`127.0.0.1:${frontPort}`, '127.0.0.1:$FRONT_PORT'),
  );
  const child = spawn(NGINX, ['-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    await waitForPort(frontPort, { tries: 100, intervalMs: 50 });
    const results: { set: GoldenSet; picks: [string, string][] }[] = [];
    for (const set of sets) {
      const picks: [string, string][] = [];
      for (let i = 0; i < set.keys.length; i += 16) {
        const batch = set.keys.slice(i, i + 16);
        const answers = await Promise.all(batch.map((k) => ask(frontPort, set.name, k)));
        answers.forEach((a, j) => {
          if (a.status !== 200)
            throw new Error(`${set.name} ${batch[j]}: status ${a.status} from ${a.upstream}`);
          picks.push([batch[j]!, a.upstream]);
        });
      }
      results.push({ set, picks });
      console.log(
        `${set.name}: ${picks.length} keys, ${new Set(picks.map((p) => p[1])).size} upstreams seen`,
      );
    }
    const meta = {
      generator: 'test-data/record-nginx.ts',
      nginx: nginxVersion.replace(/^nginx version: /, ''),
      libc,
      hash: 'hash $arg_k consistent',
      pointsPerWeight: POINT_MULTIPLE,
      recorded: new Date().toISOString().slice(0, 10),
    };
    const out = join(here, 'nginx-golden.json');
    writeFileSync(out, jsonOut(meta, results));
    // Format as the repository's lint does, so a re-recording diffs only where nginx changed.
    execFileSync('pnpm', ['exec', 'biome', 'format', '--write', '--config-path', '../tools', out], {
      cwd: join(here, '..'),
      stdio: 'ignore',
    });
    console.log(`wrote ${out}`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    const errors = readFileSync(join(dir, 'error.log'), 'utf8');
    if (errors.trim()) console.warn(errors);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
