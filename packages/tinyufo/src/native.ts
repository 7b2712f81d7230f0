/**
 * Loader for the optional C++ policy core (`native/tinyufo.cc`, built by node-gyp into
 * `native/build/Release/tinyufo.node`). Nothing here may throw: a missing build, a missing compiler or an
 * ABI mismatch leaves {@link isNativeEnabled} false and every cache on the TypeScript core.
 * `PINGORA_TS_NATIVE=0` skips loading altogether.
 */
import { createRequire } from 'node:module';
import { type Core, type CoreParams, IO_GEN, IO_LEN, smallWeightLimit } from './core.js';

/**
 * The shape of the addon's `Core` class (kept in step with `native/tinyufo.cc`): the policy
 * methods and the `meta`/`out` views of {@link Core}, which {@link NativeCore} forwards one to one.
 */
export type NativeCoreInstance = Omit<Core, 'io' | 'native'>;

interface NativeBinding {
  Core: new (
    totalWeightLimit: number,
    smallWeightLimit: number,
    capacity: number,
    slots: number,
    rows: number,
    windowLimit: number,
    seeds: Int32Array,
    io: Float64Array,
  ) => NativeCoreInstance;
}

/** `PINGORA_TS_NATIVE=0` (or the older spelling `PINGORA_TS_NO_NATIVE=1`) turns the addon off. */
export function nativeDisabled(): boolean {
  if (typeof process === 'undefined') return true;
  const env = process.env;
  return env?.PINGORA_TS_NATIVE === '0' || env?.PINGORA_TS_NO_NATIVE === '1';
}

function load(): NativeBinding | undefined {
  if (nativeDisabled()) return undefined;
  try {
    // Relative to this module: `src/` when run from source, `dist/` when built; both sit beside `native/`.
    const require = createRequire(import.meta.url);
    const binding = require('../native/build/Release/tinyufo.node') as Partial<NativeBinding>;
    return typeof binding.Core === 'function' ? (binding as NativeBinding) : undefined;
  } catch {
    return undefined;
  }
}

const binding = load();

/**
 * True when the native core is built, loaded and not disabled by `PINGORA_TS_NATIVE=0`. Only then
 * can a cache be created with `{ native: true }`.
 *
 * @example
 * ```ts
 * import { isNativeEnabled, TinyUfo } from '@pingora-ts/tinyufo';
 *
 * const cache = new TinyUfo<string, Buffer>(1000, 1000, { native: isNativeEnabled() });
 * ```
 */
export function isNativeEnabled(): boolean {
  return binding !== undefined;
}

/** A native core for `p`, or `undefined` when the addon is not available. */
export function createNativeCore(p: CoreParams): Core | undefined {
  if (binding === undefined) return undefined;
  const io = new Float64Array(IO_LEN);
  const inner = new binding.Core(
    p.totalWeightLimit,
    smallWeightLimit(p.totalWeightLimit),
    Math.max(p.capacity, 16),
    p.sketch.slots,
    p.sketch.rows,
    p.cacheSize * 8,
    p.seeds,
    io,
  );
  return new NativeCore(inner, io);
}

// Adapts the addon object to `Core`. `meta` and `out` are views of memory the addon owns; they are
// read from the addon again only when `io[IO_GEN]` says it replaced them.
class NativeCore implements Core {
  readonly native = true;
  private gen = 0;
  private metaView: Uint8Array;
  private outView: Uint32Array;

  constructor(
    private readonly inner: NativeCoreInstance,
    readonly io: Float64Array,
  ) {
    this.metaView = inner.meta;
    this.outView = inner.out;
  }

  get meta(): Uint8Array {
    this.refresh();
    return this.metaView;
  }
  get out(): Uint32Array {
    this.refresh();
    return this.outView;
  }
  admit(a: number, b: number, weight: number, force: boolean): void {
    this.inner.admit(a, b, weight, force);
  }
  update(slot: number, weight: number): void {
    this.inner.update(slot, weight);
  }
  remove(slot: number): void {
    this.inner.remove(slot);
  }
  sketchIncr(a: number, b: number): number {
    return this.inner.sketchIncr(a, b);
  }
  sketchGet(a: number, b: number): number {
    return this.inner.sketchGet(a, b);
  }
  byteLength(): number {
    return this.inner.byteLength();
  }

  private refresh(): void {
    if (this.io[IO_GEN] !== this.gen) {
      this.gen = this.io[IO_GEN]!;
      this.metaView = this.inner.meta;
      this.outView = this.inner.out;
    }
  }
}
