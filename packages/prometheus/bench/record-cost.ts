/**
 * The CPU cost of recording one request, measured in one process where a shared machine's noise
 * barely reaches it: a real proxied request's `logging` phase runs `metrics.observe(session)` in
 * a loop and the process's CPU time (not wall time) is divided by the calls. Shown beside the same
 * metrics recorded through prom-client's `Histogram`/`Counter` with label objects from the
 * access-log record (how the first version recorded them), and beside building that record alone.
 * The record reads a few lazily computed session fields (client address, path) that the loop
 * computes once, so its figures are lower bounds of what a real request pays.
 *
 *   cd packages/prometheus && node --import tsx --conditions=@pingora-ts/source bench/record-cost.ts
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpPeer, HttpServer, noopLogger, Service, ShutdownController } from '@pingora-ts/core';
import { accessLogRecord, HttpProxy, type Session } from '@pingora-ts/proxy';
import { Counter, Histogram, Registry } from 'prom-client';
import { OTEL_DURATION_BUCKETS, ProxyMetrics } from '../src/index.js';

/** CPU ns per call of `fn`, median of `rounds` rounds of `n` calls. */
function cpuNsPerOp(fn: () => unknown, n = 200_000, rounds = 7): number {
  for (let i = 0; i < n; i++) fn();
  const results: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.cpuUsage();
    for (let i = 0; i < n; i++) fn();
    const d = process.cpuUsage(t0);
    results.push(((d.user + d.system) * 1000) / n);
  }
  results.sort((a, b) => a - b);
  return results[rounds >> 1]!;
}

// The first version's recording: prom-client metrics fed label objects on every request.
function promClientRecorder(): (session: Session) => void {
  const r = new Registry();
  const labels = ['http_request_method', 'http_response_status_code', 'network_protocol_version'];
  const duration = new Histogram({
    name: 'd',
    help: 'd',
    labelNames: labels,
    buckets: [...OTEL_DURATION_BUCKETS],
    registers: [r],
  });
  const total = new Counter({ name: 't', help: 't', labelNames: ['m', 'c', 'p'], registers: [r] });
  const ttfb = new Histogram({ name: 'f', help: 'f', buckets: [...OTEL_DURATION_BUCKETS], registers: [r] });
  const reused = new Counter({ name: 'u', help: 'u', registers: [r] });
  return (session) => {
    const rec = accessLogRecord(session);
    const protocol = session.reqHeader().version;
    duration.observe(
      {
        http_request_method: rec.method,
        http_response_status_code: String(rec.status),
        network_protocol_version: protocol,
      },
      rec.total / 1000,
    );
    total.inc({ m: rec.method, c: `${Math.floor(rec.status / 100)}xx`, p: protocol });
    if (rec.upstreamReused) reused.inc();
    if (rec.upstreamFirstByte !== undefined) ttfb.observe(rec.upstreamFirstByte / 1000);
  };
}

const origin = http.createServer((_req, res) => res.end('hello world'));
await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
const originPort = (origin.address() as AddressInfo).port;
const results: Record<string, number> = {};
const metrics = new ProxyMetrics({ registry: new Registry() });
const slow = promClientRecorder();
const proxy = new HttpProxy(
  {
    upstreamPeer: () => new HttpPeer(`127.0.0.1:${originPort}`, false, ''),
    logging(session) {
      if (results.observe !== undefined) return;
      results.record = cpuNsPerOp(() => accessLogRecord(session));
      results.observe = cpuNsPerOp(() => metrics.observe(session));
      results.promClient = cpuNsPerOp(() => slow(session));
    },
  },
  { logger: noopLogger },
);
const service = new Service('bench', new HttpServer(proxy), { logger: noopLogger });
service.addTcp('127.0.0.1:0');
const shutdown = new ShutdownController();
await service.start(shutdown.watch);
const bound = service.addresses()[0];
if (bound?.kind !== 'tcp') throw new Error('the bench proxy did not bind');
const port = bound.port;
await new Promise<void>((resolve, reject) =>
  http.get(`http://127.0.0.1:${port}/`, (res) => res.resume().on('end', resolve)).on('error', reject),
);
const f = (ns: number) => `${Math.round(ns)} ns`;
console.log(`Node ${process.version}, CPU time per call (median of 7 rounds of 200 000 calls)\n`);
console.log('| per request | CPU |');
console.log('|---|---|');
console.log(`| accessLogRecord alone | ${f(results.record!)} |`);
console.log(`| ProxyMetrics.observe (reads the session itself) | ${f(results.observe!)} |`);
console.log(`| the same through prom-client label objects (record included) | ${f(results.promClient!)} |`);
process.exit(0);
