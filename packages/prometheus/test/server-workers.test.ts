/**
 * Metrics from every worker, end to end: a server with `threads: 2` (a main process and two
 * workers) serving a proxy with default metrics and the scrape endpoint. One scrape, whichever
 * worker answers it, shows all three processes and every request the proxy served.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnTsFixture, waitFor } from '@pingora-ts/test-utils';
import { afterAll, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'pingora-metrics-workers-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

/** The value of the first sample of `name` whose line contains every one of `labels`. */
function sample(text: string, name: string, ...labels: string[]): number {
  const line = text.split('\n').find((l) => l.startsWith(name) && labels.every((x) => l.includes(x)));
  return line === undefined ? Number.NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}

it('threads: 2 — one scrape shows the main process and both workers, and every request served', async () => {
  const origin = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  const conf = join(dir, 'conf.yaml');
  writeFileSync(conf, 'version: 1\nthreads: 2\ngrace_period_seconds: 5\n');
  const script = fileURLToPath(new URL('./fixtures/server-workers.ts', import.meta.url));
  const child = spawnTsFixture(script, ['-c', conf, '--', String((origin.address() as AddressInfo).port)], {
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { PINGORA_LOG_LEVEL: 'warn' },
  });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c;
  });
  await waitFor(() => (out.match(/METRICS/g) ?? []).length === 2, {
    timeout: 90_000,
    message: 'two workers serving',
  });
  const proxyPort = Number(/PROXY (\d+)/.exec(out)![1]);
  const metricsPort = Number(/METRICS (\d+)/.exec(out)![1]);

  const N = 120;
  for (let i = 0; i < N / 12; i++) {
    const batch = await Promise.all(Array.from({ length: 12 }, () => get(proxyPort, '/')));
    expect(batch.every((r) => r.status === 200)).toBe(true);
  }
  // Two scrapes (each answered by whichever worker accepts it) give the same whole-server view.
  for (let i = 0; i < 2; i++) {
    const { status, body } = await get(metricsPort, '/metrics');
    expect(status).toBe(200);
    expect(sample(body, 'pingora_test_process_up')).toBe(3);
    expect(sample(body, 'http_server_request_duration_seconds_count', 'http_request_method="GET"')).toBe(N);
    expect(sample(body, 'http_server_requests_total', 'http_response_status_class="2xx"')).toBe(N);
  }

  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  origin.close();
}, 180_000);
