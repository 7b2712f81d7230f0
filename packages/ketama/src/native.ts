/**
 * Loader for the optional C++ addon (`native/build/Release/pingora_ketama.node`, built by node-gyp from
 * `native/`). Loading is lazy and failure is silent: without the addon, or with
 * `PINGORA_TS_NATIVE=0`, every call runs the TypeScript implementation.
 */
import { createRequire } from 'node:module';

/** Bumped whenever the C++ interface changes, so a stale build is ignored rather than misused. */
export const NATIVE_ABI = 1;

/** The functions the addon exports. @internal */
export interface NativeBinding {
  readonly abi: number;
  /**
   * Build a ring. `bases` holds every bucket's `host\0port` bytes back to back, `baseEnds[i]` the
   * end offset of bucket `i`, `weights[i]` its weight. Returns `[hashes, nodes]`, sorted (stable)
   * and de-duplicated exactly like the TypeScript build.
   */
  buildRing(bases: Uint8Array, baseEnds: Uint32Array, weights: Uint32Array): [Uint32Array, Uint32Array];
  /** For each key (string as UTF-8, or bytes) write the point index into `out`. */
  lookup(hashes: Uint32Array, keys: readonly (string | Uint8Array)[], out: Uint32Array): void;
  /**
   * Batch lookup of string keys passed as one concatenated string; `lengths[i]` is the UTF-16
   * length of key `i`. Much cheaper per key than {@link NativeBinding.lookup}.
   */
  lookupJoined(hashes: Uint32Array, joined: string, lengths: Uint32Array, out: Uint32Array): void;
}

let binding: NativeBinding | undefined;
let tried = false;

function load(): NativeBinding | undefined {
  if (process.env.PINGORA_TS_NATIVE === '0') return undefined;
  try {
    // The addon sits in native/build/Release/, reached the same way from src/ and dist/.
    const require = createRequire(import.meta.url);
    const b = require('../native/build/Release/pingora_ketama.node') as NativeBinding;
    return b && b.abi === NATIVE_ABI ? b : undefined;
  } catch {
    return undefined;
  }
}

/** The loaded addon, or `undefined`. @internal */
export function nativeBinding(): NativeBinding | undefined {
  if (!tried) {
    tried = true;
    binding = load();
  }
  return binding;
}

/**
 * True when the C++ addon is built, loadable and not disabled by `PINGORA_TS_NATIVE=0`. With
 * `implementation: 'auto'` (the default) a {@link Continuum} then uses it where it is faster.
 *
 * @example
 * ```ts
 * import { isNativeEnabled } from '@pingora-ts/ketama';
 * console.log(isNativeEnabled() ? 'native ring build' : 'TypeScript ring build');
 * ```
 */
export function isNativeEnabled(): boolean {
  return nativeBinding() !== undefined;
}
