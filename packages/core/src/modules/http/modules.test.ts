import { PassThrough, Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip, gunzipSync } from 'node:zlib';
import { RequestHeader, ResponseHeader } from '@pingora-ts/http';
import { waitFor } from '@pingora-ts/test-utils';
import { describe, expect, it } from 'vitest';
import type { HttpModule, HttpModuleBuilder } from './module.js';
import { HttpModuleCtx, HttpModules } from './modules.js';

class Tag implements HttpModule {
  constructor(readonly name: string) {}
  requestHeaderFilter(req: RequestHeader): void {
    const seen = req.headers.get('x-seen');
    req.insertHeader('x-seen', seen === undefined ? this.name : `${seen},${this.name}`);
  }
}

class TagBuilder implements HttpModuleBuilder<Tag> {
  constructor(
    readonly name: string,
    readonly order = 0,
  ) {}
  init(): Tag {
    return new Tag(this.name);
  }
}

class OtherBuilder implements HttpModuleBuilder<Tag> {
  constructor(readonly order = 0) {}
  init(): Tag {
    return new Tag('other');
  }
}

function req(): RequestHeader {
  return RequestHeader.build('GET', '/');
}

describe('HttpModules', () => {
  it('is empty until a module is added', () => {
    const modules = new HttpModules();
    expect(modules.isEmpty).toBe(true);
    expect(modules.buildCtx().modules).toHaveLength(0);
    modules.addModule(new TagBuilder('a'));
    expect(modules.isEmpty).toBe(false);
    expect(modules.size).toBe(1);
  });

  it('runs higher orders first and ties in insertion order', () => {
    const modules = new HttpModules();
    modules.addModule({ init: () => new Tag('lit0') });
    modules.addModule(new TagBuilder('high', 10));
    modules.addModule(new OtherBuilder(0));
    modules.addModule({ order: -5, init: () => new Tag('low') });
    const r = req();
    expect(modules.buildCtx().requestHeaderFilter(r)).toBeUndefined();
    expect(r.headers.get('x-seen')).toBe('high,lit0,other,low');
  });

  it('keeps one builder per class: a second one replaces the first in place', () => {
    const modules = new HttpModules();
    modules.addModule(new TagBuilder('first'));
    modules.addModule(new OtherBuilder());
    modules.addModule(new TagBuilder('second'));
    expect(modules.size).toBe(2);
    const r = req();
    modules.buildCtx().requestHeaderFilter(r);
    expect(r.headers.get('x-seen')).toBe('second,other');
  });

  it('makes fresh module instances for every context', () => {
    const modules = new HttpModules();
    modules.addModule(new TagBuilder('a'));
    const one = modules.buildCtx();
    const two = modules.buildCtx();
    expect(one.get(Tag)).toBeInstanceOf(Tag);
    expect(one.get(Tag)).not.toBe(two.get(Tag));
    expect(one.get(PassThrough)).toBeUndefined();
  });
});

describe('HttpModuleCtx runners', () => {
  it('awaits only when a hook returns a promise, and keeps the order', async () => {
    const order: string[] = [];
    const ctx = new HttpModuleCtx([
      { requestHeaderFilter: () => void order.push('sync1') },
      { requestHeaderFilter: () => Promise.resolve().then(() => void order.push('async')) },
      { requestHeaderFilter: () => void order.push('sync2') },
    ]);
    const r = ctx.requestHeaderFilter(req());
    expect(r).toBeInstanceOf(Promise);
    expect(order).toEqual(['sync1']);
    await r;
    expect(order).toEqual(['sync1', 'async', 'sync2']);
  });

  it('stops at a hook that throws or rejects', async () => {
    const after: string[] = [];
    const throwing = new HttpModuleCtx([
      {
        responseHeaderFilter: () => {
          throw new Error('no');
        },
      },
      { responseHeaderFilter: () => void after.push('ran') },
    ]);
    expect(() => throwing.responseHeaderFilter(ResponseHeader.build(200), false)).toThrow('no');
    const rejecting = new HttpModuleCtx([
      { responseHeaderFilter: () => Promise.reject(new Error('later')) },
      { responseHeaderFilter: () => void after.push('ran') },
    ]);
    await expect(rejecting.responseHeaderFilter(ResponseHeader.build(200), false)).rejects.toThrow('later');
    expect(after).toEqual([]);
  });

  it('chains body filters: keep, replace, drop, and still signals the end after a drop', () => {
    const seen: Array<string | undefined> = [];
    const ctx = new HttpModuleCtx([
      { responseBodyFilter: (b) => (b?.toString() === 'drop' ? null : undefined) },
      { responseBodyFilter: (b) => (b === undefined ? undefined : Buffer.from(b.toString().toUpperCase())) },
      {
        responseBodyFilter: (b, end) => {
          seen.push(`${b?.toString()}:${end}`);
          return undefined;
        },
      },
    ]);
    expect(ctx.responseBodyFilter(Buffer.from('abc'), false)?.toString()).toBe('ABC');
    expect(ctx.responseBodyFilter(Buffer.from('drop'), true)).toBeNull();
    expect(seen).toEqual(['ABC:false', 'undefined:true']);
    expect(new HttpModuleCtx([{}]).responseBodyFilter(Buffer.from('x'), false)).toBeUndefined();
    expect(ctx.hasResponseBodyFilter).toBe(true);
    expect(ctx.hasRequestBodyFilter).toBe(false);
    const reqCtx = new HttpModuleCtx([{ requestBodyFilter: () => Buffer.from('y') }]);
    expect(reqCtx.requestBodyFilter(undefined, true)?.toString()).toBe('y');
  });

  it('edits trailers in module order', () => {
    const ctx = new HttpModuleCtx([
      { responseTrailerFilter: (t) => void t.push('a', '1') },
      { responseTrailerFilter: (t) => void t.push('b', String(t.length)) },
    ]);
    const t: string[] = [];
    ctx.responseTrailerFilter(t);
    expect(t).toEqual(['a', '1', 'b', '2']);
  });

  it('has no stream when no module returns one, and one module stream as it is', () => {
    expect(
      new HttpModuleCtx([{}, { responseBodyStream: () => undefined }]).responseBodyStream(),
    ).toBeUndefined();
    const gz = createGzip();
    const ctx = new HttpModuleCtx([{ responseBodyStream: () => gz }]);
    expect(ctx.responseBodyStream()).toBe(gz);
    expect(ctx.responseBodyStream()).toBe(gz);
    gz.destroy();
  });

  it('chains several streams in module order', async () => {
    const upper = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        cb(null, Buffer.from(chunk.toString().toUpperCase()));
      },
    });
    const ctx = new HttpModuleCtx([
      { responseBodyStream: () => upper },
      { responseBodyStream: () => createGzip() },
    ]);
    const s = ctx.responseBodyStream()!;
    const out: Buffer[] = [];
    await pipeline(Readable.from([Buffer.from('hello '), Buffer.from('world')]), s, async (src) => {
      for await (const c of src) out.push(c as Buffer);
    });
    expect(gunzipSync(Buffer.concat(out)).toString()).toBe('HELLO WORLD');
  });

  it('runs done filters once, even if one throws, and destroys an unfinished stream', async () => {
    let calls = 0;
    const gunzip = createGunzip();
    const gzip = createGzip();
    const ctx = new HttpModuleCtx([
      {
        responseBodyStream: () => gunzip,
        responseDoneFilter: () => {
          calls++;
          throw new Error('cleanup failed');
        },
      },
      { responseBodyStream: () => gzip, responseDoneFilter: () => void calls++ },
    ]);
    const s = ctx.responseBodyStream()!;
    s.on('error', () => {});
    s.write(Buffer.from('not gzip yet'));
    expect(() => ctx.responseDoneFilter()).toThrow('cleanup failed');
    ctx.responseDoneFilter();
    expect(calls).toBe(2);
    expect(ctx.isDone).toBe(true);
    expect(s.destroyed).toBe(true);
    // Every part of the chain goes with it: no zlib handle is left behind.
    await waitFor(() => gunzip.destroyed && gzip.destroyed);
  });
});
