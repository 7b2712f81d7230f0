/**
 * Test helper: the implementations every suite runs against. The native suite is dropped only
 * when PINGORA_TS_NATIVE=0; otherwise it must really load the addon (see assertImpl), so a
 * broken native build fails the tests instead of silently testing TypeScript twice.
 */
import { expect } from 'vitest';
import { isNativeEnabled } from '../src/native.js';

export type Impl = 'ts' | 'native';

export const nativeDisabled = process.env.PINGORA_TS_NATIVE === '0';

/** `['ts', 'native']`, or `['ts']` under PINGORA_TS_NATIVE=0. */
export const IMPLS: Impl[] = nativeDisabled ? ['ts'] : ['ts', 'native'];

/** Fails the suite if `impl` is native and the addon is not loaded. */
export function assertImpl(impl: Impl): void {
  if (impl === 'native') {
    expect(isNativeEnabled(), 'native addon not loaded: run `pnpm run build:native`').toBe(true);
  }
}
