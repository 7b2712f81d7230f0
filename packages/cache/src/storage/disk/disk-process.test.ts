/**
 * The disk cache across real processes: each fixture is its own Node process on the same directory.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Meta, openDisk, put, readHit, testKey } from '../../../test/disk-support.js';
import { killFixtures, runFixture } from '../../../test/run-fixture.js';
import { LruEvictionManager } from '../../eviction/lru.js';
import type { DiskStorage } from './disk.js';
import { fileName, levelDir } from './layout.js';

const dirs: string[] = [];
const stores: DiskStorage<Meta>[] = [];
const servers: Server[] = [];
afterEach(async () => {
  await killFixtures();
  for (const s of stores.splice(0)) await s.close().catch(() => {});
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempRoot(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pingora-disk-'));
  dirs.push(dir);
  return dir;
}

async function storage(root: string, partialStaleMs?: number) {
  const s = await openDisk(root, new LruEvictionManager({ maxBytes: 1 << 24 }), undefined, {
    partialStaleMs,
  });
  stores.push(s);
  return s;
}

const meta: Meta = { status: 200, freshUntil: Date.now() + 600_000 };

describe('DiskStorage across processes', { timeout: 60_000 }, () => {
  it('another process reads a hit this one wrote', async () => {
    const root = tempRoot();
    const s = await storage(root);
    await put(s, testKey('shared'), 'written by the parent', meta);
    const reader = runFixture('disk-worker.ts', ['read', root, 'shared']);
    expect(await reader.line('body ')).toBe('body "written by the parent"');
    expect(await reader.exited).toBe(0);
  });

  it('this process streams a fill in progress in another, and reads the hit after', async () => {
    const root = tempRoot();
    const writer = runFixture('disk-worker.ts', ['write', root, 'fill', 'first half, ', 'second half']);
    await writer.line('partial');
    const s = await storage(root);
    const found = (await s.lookup(testKey('fill')))!;
    expect(found.meta).toEqual(expect.objectContaining({ status: 200 }));
    const whole = readHit(found.hit);
    writer.child.stdin?.write('go\n');
    expect(await whole).toBe('first half, second half');
    await writer.line('done');
    expect(await readHit((await s.lookup(testKey('fill')))!.hit)).toBe('first half, second half');
  });

  it('a writer killed mid-fill leaves nothing servable; a restart cleans its files', async () => {
    const root = tempRoot();
    const writer = runFixture('disk-worker.ts', ['write', root, 'crash', 'half a body', 'never written']);
    await writer.line('partial');
    writer.child.kill('SIGKILL');
    await writer.exited;
    const name = fileName(testKey('crash').hashKey, [1, 2]);
    const dir = levelDir(root, name, [1, 2]);
    const left = readdirSync(dir);
    expect(left).not.toContain(name);
    expect(left.filter((n) => n.endsWith('.tmp'))).toHaveLength(1);
    expect(left).toContain(`${name}.partial`);
    // The start-up of the next storage on the directory sweeps the dead writer's files.
    const restarted = await storage(root, 200);
    expect(readdirSync(dir)).toEqual([]);
    expect(await restarted.lookup(testKey('crash'))).toBeUndefined();
  });

  it('a reader tailing a fill whose writer was killed gives up cleanly', async () => {
    const root = tempRoot();
    const writer = runFixture('disk-worker.ts', ['write', root, 'dies', 'half a body', 'never written']);
    await writer.line('partial');
    const s = await storage(root, 200);
    const { hit } = (await s.lookup(testKey('dies')))!;
    expect(Buffer.from((await hit.readBody())!).toString()).toBe('half a body');
    const next = hit.readBody();
    writer.child.kill('SIGKILL');
    await expect(next).rejects.toThrow(/stopped \(no progress for 200 ms\)/);
    await hit.finish();
  });

  it('a stampede spread over 3 processes reaches the origin once (file cache lock)', async () => {
    const root = tempRoot();
    let originRequests = 0;
    let ready = 0;
    let release: (() => void) | undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let first: (() => void) | undefined;
    const reached = new Promise<void>((resolve) => {
      first = resolve;
    });
    const origin = createServer((_req, res) => {
      originRequests++;
      first?.();
      // Hold the first answer until every process has its requests in flight.
      void held.then(() => res.end('origin body'));
    });
    servers.push(origin);
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(origin.address() as AddressInfo).port}/`;
    const lockDir = join(root, 'locks');
    const workers = [0, 1, 2].map(() => runFixture('disk-worker.ts', ['stampede', root, lockDir, '20', url]));
    await Promise.all(workers.map((w) => w.line('started').then(() => ready++)));
    expect(ready).toBe(3);
    // Wait for the one writer's request to reach the origin before answering it.
    await reached;
    release?.();
    const results = await Promise.all(
      workers.map(async (w) => JSON.parse((await w.line('result ')).slice(7))),
    );
    expect(originRequests).toBe(1);
    expect(results.reduce((sum, r) => sum + r.fetches, 0)).toBe(1);
    for (const r of results) expect(r.bodies).toEqual(['origin body']);
    expect(readdirSync(lockDir)).toEqual([]);
  });
});
