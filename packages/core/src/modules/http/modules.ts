/**
 * The module registry of an app (Pingora's `HttpModules`) and the per-request context that runs
 * the modules' hooks in order (Pingora's `HttpModuleCtx`). Runners return a promise only when a
 * module's hook returned one, so a request whose modules are all synchronous never awaits.
 */
import { Duplex, pipeline } from 'node:stream';
import type { RequestHeader, ResponseHeader } from '@pingora-ts/http';
import type { HttpModule, HttpModuleBuilder, ModuleBodyResult } from './module.js';

/**
 * The modules registered on an app, built once; {@link buildCtx} makes one set of module
 * instances per request. One builder is kept per builder class: adding a second builder of the
 * same class replaces the first in place (builders written as object literals are each their
 * own kind). Modules run by {@link HttpModuleBuilder.order}, highest first; equal orders run in
 * the order they were first added.
 *
 * @example
 * ```ts
 * const modules = new HttpModules();
 * modules.addModule({ order: 10, init: () => new BasicAuth('secret') });
 * const ctx = modules.buildCtx(); // per request
 * await ctx.requestHeaderFilter(req);
 * ```
 */
export class HttpModules {
  private readonly builders: HttpModuleBuilder[] = [];
  private sorted: HttpModuleBuilder[] | undefined;

  /** Registers `builder`, replacing an earlier builder of the same class. */
  addModule(builder: HttpModuleBuilder): void {
    const kind = kindOf(builder);
    const at = this.builders.findIndex((b) => kindOf(b) === kind);
    if (at >= 0) this.builders[at] = builder;
    else this.builders.push(builder);
    this.sorted = undefined;
  }

  /** No module is registered: an app can skip module work entirely. */
  get isEmpty(): boolean {
    return this.builders.length === 0;
  }

  /** How many modules are registered. */
  get size(): number {
    return this.builders.length;
  }

  /** The builders in run order (highest `order` first). */
  get builderList(): readonly HttpModuleBuilder[] {
    return this.ordered();
  }

  /** One fresh instance of every module, in run order, for one request. */
  buildCtx(): HttpModuleCtx {
    const b = this.ordered();
    const modules = new Array<HttpModule>(b.length);
    for (let i = 0; i < b.length; i++) modules[i] = b[i]!.init();
    return new HttpModuleCtx(modules);
  }

  private ordered(): HttpModuleBuilder[] {
    let s = this.sorted;
    if (s === undefined) {
      // Array.prototype.sort is stable: ties keep insertion order.
      s = this.sorted = [...this.builders].sort((a, b) => (b.order ?? 0) - (a.order ?? 0));
    }
    return s;
  }
}

// A class instance is identified by its class; a plain object by itself.
function kindOf(builder: HttpModuleBuilder): unknown {
  const proto = Object.getPrototypeOf(builder) as { constructor?: unknown } | null;
  return proto === null || proto === Object.prototype ? builder : proto.constructor;
}

// Streams piped one into the next, seen as one Duplex: written at the first, read at the last.
// The pipeline tears every part down when one fails or is destroyed.
function chain(streams: Duplex[]): Duplex {
  const first = streams[0]!;
  const last = streams[streams.length - 1]!;
  pipeline(streams, ignore);
  const whole = Duplex.from({ writable: first, readable: last });
  whole.once('close', () => {
    for (const s of streams) if (!s.destroyed) s.destroy();
  });
  return whole;
}

function ignore(): void {}

// One body filter hook of every module, in order; see HttpModuleCtx.requestBodyFilter for the result.
function runBodyFilters(
  m: readonly HttpModule[],
  hook: 'requestBodyFilter' | 'responseBodyFilter',
  body: Buffer | undefined,
  endOfStream: boolean,
): ModuleBodyResult {
  let c = body;
  let changed = false;
  for (let i = 0; i < m.length; i++) {
    const f = m[i]![hook];
    if (f === undefined) continue;
    const r = f.call(m[i]!, c, endOfStream);
    if (r !== undefined) {
      changed = true;
      c = r ?? undefined;
    }
  }
  return changed ? (c ?? null) : undefined;
}

function isPromise(v: unknown): v is Promise<void> {
  return v instanceof Promise;
}

/**
 * The modules of one request, in run order, and the runners the app calls at each point of the
 * request. A hook that throws (or rejects) stops the runner with that error.
 *
 * @example
 * ```ts
 * const ctx = modules.buildCtx();
 * const r = ctx.requestHeaderFilter(req);
 * if (r instanceof Promise) await r;      // only when a module is async
 * ctx.get(ResponseCompression)?.adjustLevel(6);
 * await ctx.responseHeaderFilter(resp, false);
 * const stream = ctx.responseBodyStream(); // pipe the body through it, if any
 * ctx.responseDoneFilter();                // once, however the request ended
 * ```
 */
export class HttpModuleCtx {
  private stream: Duplex | undefined;
  private done = false;

  constructor(
    /** The module instances, in run order. */
    readonly modules: readonly HttpModule[],
  ) {}

  /** A context with no module (for code that wants one unconditionally). */
  static empty(): HttpModuleCtx {
    return new HttpModuleCtx([]);
  }

  /**
   * The first module that is an instance of `type`, e.g. `ctx.get(ResponseCompression)` to
   * adjust compression for this request.
   */
  get<M>(type: abstract new (...args: never[]) => M): M | undefined {
    const m = this.modules;
    for (const x of m) if (x instanceof type) return x;
    return undefined;
  }

  /** Some module filters response body chunks (the body length may change). */
  get hasResponseBodyFilter(): boolean {
    const m = this.modules;
    for (let i = 0; i < m.length; i++) if (m[i]!.responseBodyFilter !== undefined) return true;
    return false;
  }

  /** Some module filters request body chunks. */
  get hasRequestBodyFilter(): boolean {
    const m = this.modules;
    for (let i = 0; i < m.length; i++) if (m[i]!.requestBodyFilter !== undefined) return true;
    return false;
  }

  /** Runs every `requestHeaderFilter`; a promise only if a hook returned one. */
  requestHeaderFilter(req: RequestHeader): void | Promise<void> {
    return this.requestHeaderFrom(req, 0);
  }

  private requestHeaderFrom(req: RequestHeader, from: number): void | Promise<void> {
    const m = this.modules;
    for (let i = from; i < m.length; i++) {
      const r = m[i]!.requestHeaderFilter?.(req);
      if (isPromise(r)) return r.then(() => this.requestHeaderFrom(req, i + 1));
    }
    return undefined;
  }

  /** Runs every `responseHeaderFilter`; a promise only if a hook returned one. */
  responseHeaderFilter(resp: ResponseHeader, endOfStream: boolean): void | Promise<void> {
    return this.responseHeaderFrom(resp, endOfStream, 0);
  }

  private responseHeaderFrom(resp: ResponseHeader, eos: boolean, from: number): void | Promise<void> {
    const m = this.modules;
    for (let i = from; i < m.length; i++) {
      const r = m[i]!.responseHeaderFilter?.(resp, eos);
      if (isPromise(r)) return r.then(() => this.responseHeaderFrom(resp, eos, i + 1));
    }
    return undefined;
  }

  /**
   * Runs every `requestBodyFilter` on `body`. Returns `undefined` when no module changed the chunk,
   * else the new chunk (`null` = nothing to send). A module after one that dropped the chunk sees
   * `undefined` (and still sees `endOfStream`).
   */
  requestBodyFilter(body: Buffer | undefined, endOfStream: boolean): ModuleBodyResult {
    return runBodyFilters(this.modules, 'requestBodyFilter', body, endOfStream);
  }

  /** Runs every `responseBodyFilter` on `body`; same result rules as {@link requestBodyFilter}. */
  responseBodyFilter(body: Buffer | undefined, endOfStream: boolean): ModuleBodyResult {
    return runBodyFilters(this.modules, 'responseBodyFilter', body, endOfStream);
  }

  /**
   * The stream the response body goes through, asked once after {@link responseHeaderFilter}:
   * `undefined` when no module wants one, the module's stream when one does, and several chained
   * in module order (`stream.compose`). Destroying the returned stream destroys every part.
   * {@link responseDoneFilter} destroys it if it did not finish.
   */
  responseBodyStream(): Duplex | undefined {
    if (this.stream !== undefined) return this.stream;
    const m = this.modules;
    let first: Duplex | undefined;
    let more: Duplex[] | undefined;
    for (let i = 0; i < m.length; i++) {
      const s = m[i]!.responseBodyStream?.();
      if (s === undefined) continue;
      if (first === undefined) first = s;
      else if (more === undefined) more = [first, s];
      else more.push(s);
    }
    this.stream = more === undefined ? first : chain(more);
    return this.stream;
  }

  /** Runs every `responseTrailerFilter` on the raw trailer array (edited in place). */
  responseTrailerFilter(trailers: string[]): void {
    const m = this.modules;
    for (let i = 0; i < m.length; i++) m[i]!.responseTrailerFilter?.(trailers);
  }

  /**
   * Runs every `responseDoneFilter`, once per request however often it is called (success, error
   * or a client that went away), and destroys a body stream that did not finish, so no zlib handle
   * outlives its request. Every module's hook runs even if one throws; the first error is thrown
   * after.
   */
  responseDoneFilter(): void {
    if (this.done) return;
    this.done = true;
    const s = this.stream;
    if (s !== undefined && !s.destroyed && !(s.writableFinished && s.readableEnded)) s.destroy();
    const m = this.modules;
    let error: unknown;
    let failed = false;
    for (let i = 0; i < m.length; i++) {
      try {
        m[i]!.responseDoneFilter?.();
      } catch (e) {
        if (!failed) error = e;
        failed = true;
      }
    }
    if (failed) throw error;
  }

  /** {@link responseDoneFilter} ran. */
  get isDone(): boolean {
    return this.done;
  }
}
