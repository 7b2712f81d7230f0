/**
 * Shared vitest configuration. Workspace packages resolve each other through the
 * `@pingora-ts/source` export condition, so tests run on source and need no build.
 */
import { defaultServerConditions } from 'vite';
import { defineProject, type UserWorkspaceConfig } from 'vitest/config';

const conditions = ['@pingora-ts/source', ...defaultServerConditions];

/**
 * Under the workspace test command (`scripts/run-checks.mjs`), each package also writes its
 * results as JSON there, so the command can name every failing test once at the end.
 */
function resultReporters(name: string): Record<string, unknown> {
  const dir = process.env.PINGORA_TS_TEST_RESULTS;
  if (!dir) return {};
  const file = `${dir}/${name.replace(/[^a-z0-9.-]+/gi, '_')}.json`;
  return { reporters: ['default', 'json'], outputFile: { json: file } };
}

/** vitest config for one package; `name` is the package name shown in reports. */
export function packageTest(name: string, extra: UserWorkspaceConfig['test'] = {}) {
  return defineProject({
    resolve: { conditions },
    ssr: { resolve: { conditions } },
    test: {
      name,
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      restoreMocks: true,
      testTimeout: 60_000,
      hookTimeout: 60_000,
      ...resultReporters(name),
      ...extra,
    },
  });
}
