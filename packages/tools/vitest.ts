/**
 * Shared vitest configuration. Workspace packages resolve each other through the
 * `@pingora-ts/source` export condition, so tests run on source and need no build.
 */
import { defaultServerConditions } from 'vite';
import { defineProject, type UserWorkspaceConfig } from 'vitest/config';

const conditions = ['@pingora-ts/source', ...defaultServerConditions];

/** vitest config for one package; `name` is the package name shown in reports. */
export function packageTest(name: string, extra: UserWorkspaceConfig['test'] = {}) {
  return defineProject({
    resolve: { conditions },
    ssr: { resolve: { conditions } },
    test: {
      name,
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      restoreMocks: true,
      testTimeout: 20_000,
      hookTimeout: 20_000,
      ...extra,
    },
  });
}
