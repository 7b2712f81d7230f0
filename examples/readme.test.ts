/**
 * The repository README's quick start must run as written: its code block is run in its own
 * process (tsx, on workspace sources), with only the ports changed so parallel runs do not
 * collide, and driven over loopback like a person with curl would.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connects, freePort, request, waitFor, waitForEvent } from '@pingora-ts/test-utils';
import { afterEach, describe, expect, it } from 'vitest';

const examplesDir = fileURLToPath(new URL('.', import.meta.url));
const readme = readFileSync(join(examplesDir, '..', 'README.md'), 'utf8');
const children: ChildProcess[] = [];

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** The first ```ts block after the quick start's introduction. */
function quickStart(): string {
  const from = readme.indexOf('A load balancer you can run as written');
  const block = /```ts\n(.*?)```/s.exec(readme.slice(from))?.[1];
  if (from < 0 || block === undefined) throw new Error('README.md has no quick start block');
  return block;
}

describe('README quick start', () => {
  it('uses loopback origins and the failover recipe', () => {
    const code = quickStart();
    expect(code).not.toMatch(/\b10\.\d+\.\d+\.\d+/);
    expect(code).toMatch(/failToConnect[\s\S]*setRetry\(true\)/);
    expect(code).toMatch(/selectWith\(/);
  });

  it('runs as written: proxies to both origins, logs each request, exits 0 on SIGINT', async () => {
    const [proxyPort, a, b] = [await freePort(), await freePort(), await freePort()];
    const code = quickStart()
      .replaceAll('6188', String(proxyPort))
      .replaceAll('8001', String(a))
      .replaceAll('8002', String(b));
    const dir = join(examplesDir, 'build', `readme-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'quick-start.ts');
    writeFileSync(file, code);
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@pingora-ts/source', file], {
        cwd: examplesDir,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      let output = '';
      child.stdout?.on('data', (c: Buffer) => {
        output += c;
      });
      child.stderr?.on('data', (c: Buffer) => {
        output += c;
      });
      const exited = waitForEvent<[number | null, string | null]>(child, 'exit', {
        timeout: 60_000,
        message: 'the quick start to exit',
      });
      await waitFor(async () => (await connects(proxyPort)) && (await connects(a)) && (await connects(b)), {
        timeout: 45_000,
        interval: 50,
        message: `the quick start to listen (output so far: ${output})`,
      });

      const bodies = new Set<string>();
      for (let i = 0; i < 4; i++) {
        const res = await request(`http://127.0.0.1:${proxyPort}/r${i}`);
        expect(res.status).toBe(200);
        bodies.add(res.body.trim());
      }
      expect(bodies).toEqual(new Set([`hello from origin ${a}`, `hello from origin ${b}`]));
      // One access line per request, naming the path (the logger's format is its own business).
      await waitFor(() => [0, 1, 2, 3].every((i) => output.includes(`/r${i}`)), {
        message: 'an access log line for each request',
      });

      child.kill('SIGINT');
      const [status] = await exited;
      expect(status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
