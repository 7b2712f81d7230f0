/**
 * One tsup configuration for every published package: ESM + CJS + `.d.ts`/`.d.cts`, one output
 * per entry, dependencies left external. Packages call {@link packageBuild} from a five-line
 * `tsup.config.ts`, so a move to another bundler later is a change in this file only.
 */
import { defineConfig, type Options } from 'tsup';

/** Build options for one package; `entry` defaults to `src/index.ts`. */
export function packageBuild(overrides: Options = {}) {
  return defineConfig({
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
    splitting: false,
    treeshake: false,
    ...overrides,
  });
}
