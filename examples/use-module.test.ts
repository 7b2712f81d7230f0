import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, origin, track } from './lib/testing.js';
import * as useModule from './use-module.js';

afterEach(closeAll);

async function get(port: number, headers: Record<string, string> = {}) {
  const res = await fetch(`http://127.0.0.1:${port}/`, { headers });
  return { status: res.status, body: await res.text() };
}

const basic = (userPass: string) => `Basic ${Buffer.from(userPass).toString('base64')}`;

describe('use-module', () => {
  it('the Basic-auth module answers 401 without the right credentials and lets the right ones through', async () => {
    const o = await origin('protected');
    const r = track(await useModule.main(0, o.addr, 'admin', 'testcode'));
    const port = r.ports[0]!;
    expect((await get(port)).status).toBe(401);
    expect((await get(port, { authorization: basic('admin:wrong') })).status).toBe(401);
    expect((await get(port, { authorization: basic('admin:testcodeX') })).status).toBe(401);
    expect(o.served).toBe(0);
    const ok = await get(port, { authorization: basic('admin:testcode') });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('protected');
    expect(o.served).toBe(1);
  });
});
