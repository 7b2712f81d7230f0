/**
 * Test support: the implementations every suite runs against. The native one is skipped only when
 * `PINGORA_TS_NATIVE=0`; otherwise a missing addon must fail the suite, not silently skip it.
 */
import { isNativeEnabled, nativeDisabled } from '../src/native.js';

/** One implementation under test. */
export interface Impl {
  name: 'ts' | 'native';
  native: boolean;
  /** Skip this implementation's suite. */
  skip: boolean;
}

const nativeOff = nativeDisabled();

/** The TypeScript core, and the native core unless disabled by `PINGORA_TS_NATIVE=0`. */
export const impls: Impl[] = [
  { name: 'ts', native: false, skip: false },
  { name: 'native', native: true, skip: nativeOff },
];

/** Whether native tests must find the addon loaded. */
export function nativeRequired(): boolean {
  return !nativeOff;
}

export { isNativeEnabled };
