import { HttpPeer } from '@pingora-ts/core';
import { deadPort } from '@pingora-ts/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, request, startOrigin, startProxy, startRawOrigin } from '../test/helpers.js';

afterEach(closeAll);

describe('retries (Pingora §2.5)', () => {
  it('failToConnect marking the error retryable sends the next attempt to another peer', async () => {
    const dead = await deadPort();
    const origin = await startOrigin((_req, res) => res.end('second'));
    const peers: string[] = [];
    const p = await startProxy<{ tries: number }>({
      newCtx: () => ({ tries: 0 }),
      upstreamPeer: (_s, ctx) => {
        const peer = ctx.tries++ === 0 ? new HttpPeer(`127.0.0.1:${dead}`, false, '') : origin.peer();
        peers.push(String(peer));
        return peer;
      },
      failToConnect: (_s, _p, _c, e) => e.setRetry(true),
    });
    const r = await request(p.url('/'));
    expect(r.body).toBe('second');
    expect(peers).toHaveLength(2);
    const retries = p.logs.filter((l) => l.msg.startsWith('retrying request:'));
    expect(retries).toHaveLength(1);
    expect(retries[0]!.level).toBe('warn');
    expect(retries[0]!.msg).toMatch(
      new RegExp(
        `^retrying request: connect to 127\\.0\\.0\\.1:${dead} failed \\(Connection refused\\), attempt 2, GET /`,
      ),
    );
    expect((retries[0]!.obj as { err: Error }).err.message).toContain('ConnectRefused');
  });

  it('connect errors are not retried unless failToConnect says so', async () => {
    const dead = await deadPort();
    let asked = 0;
    const p = await startProxy({
      upstreamPeer: () => {
        asked++;
        return new HttpPeer(`127.0.0.1:${dead}`, false, '');
      },
    });
    expect((await request(p.url('/'))).status).toBe(502);
    expect(asked).toBe(1);
  });

  it('max_retries caps an always-retryable failure', async () => {
    const dead = await deadPort();
    let asked = 0;
    const p = await startProxy(
      {
        upstreamPeer: () => {
          asked++;
          return new HttpPeer(`127.0.0.1:${dead}`, false, '');
        },
        failToConnect: (_s, _p, _c, e) => e.setRetry(true),
      },
      { maxRetries: 3 },
    );
    expect((await request(p.url('/'))).status).toBe(502);
    expect(asked).toBe(3);
  });

  it('a pooled connection the origin closed is retried on a fresh one (ReusedOnly), body included', async () => {
    // The origin answers one request per connection without saying "Connection: close", then
    // closes when the next request arrives: the classic keep-alive race.
    let conns = 0;
    const bodies: string[] = [];
    const origin = await startRawOrigin((s) => {
      conns++;
      let served = false;
      let buf = '';
      s.on('data', (d) => {
        if (served) {
          s.destroy();
          return;
        }
        buf += d.toString();
        const end = buf.indexOf('\r\n\r\n');
        const len = Number(/content-length: (\d+)/i.exec(buf)?.[1] ?? 0);
        if (end < 0 || buf.length < end + 4 + len) return;
        bodies.push(buf.slice(end + 4));
        served = true;
        s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      });
    });
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    expect((await request(p.url('/'), { method: 'POST', body: 'first' })).body).toBe('ok');
    const r = await request(p.url('/'), { method: 'POST', body: 'second' });
    expect(r.status).toBe(200);
    expect(bodies).toEqual(['first', 'second']);
    // one for the first request, one fresh connection for the retry of the second
    expect(conns).toBe(2);
    const retries = p.logs.filter((l) => l.msg.startsWith('retrying request:'));
    expect(retries.map((l) => l.msg)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^retrying request: reused connection to 127\\.0\\.0\\.1:${origin.port} failed \\(ConnectionClosed: [^)]+\\), attempt 2, POST /`,
        ),
      ),
    ]);
  });

  it('a ReusedOnly failure on a fresh connection is not retried', async () => {
    const origin = await startRawOrigin((s) => s.on('data', () => s.destroy()));
    let asked = 0;
    const p = await startProxy({
      upstreamPeer: () => {
        asked++;
        return origin.peer();
      },
    });
    expect((await request(p.url('/'))).status).toBe(502);
    expect(asked).toBe(1);
  });

  it('a request body larger than the 64 KiB retry buffer is not retried', async () => {
    let conns = 0;
    const origin = await startRawOrigin((s) => {
      conns++;
      // First connection: answer the first request fully, then die on the next one.
      let served = false;
      let bytes = 0;
      s.on('data', (d) => {
        if (served) {
          s.destroy();
          return;
        }
        bytes += d.length;
        if (bytes >= 100_000) {
          served = true;
          s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
        }
      });
    });
    const big = Buffer.alloc(100_000, 'x');
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    expect((await request(p.url('/'), { method: 'POST', body: big })).status).toBe(200);
    const r = await request(p.url('/'), { method: 'POST', body: big });
    expect(r.status).toBe(502);
    expect(conns).toBe(1);
  });
});
