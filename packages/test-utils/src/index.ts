/**
 * @module @pingora-ts/test-utils
 *
 * Helpers that the workspace's test suites and benchmarks share, so each copy is written once:
 * ports (`freePort`, `deadPort`, `waitForPort`), waiting capped by wall-clock time (`waitFor` polls a
 * condition, `waitForEvent` awaits an emitter's event), a cleanup registry
 * (`onClose`, `closeAll`), real-socket origins and clients, a recording logger, the rule for tests
 * that need peer tools (`requirePeer`), an nginx runner, a seeded PRNG (`mulberry32`), a
 * micro-benchmark timer (`nsPerOp`), TypeScript fixtures in their own processes (`spawnTsFixture`,
 * `processAlive`) and a README example runner (`runReadmeExample`). Private: consumed from source by vitest and tsx, never built
 * or published. It depends on no workspace package, so every package can use it without a
 * dependency cycle.
 *
 * @example
 * ```ts
 * import { closeAll, deadPort, request, startOrigin } from '@pingora-ts/test-utils';
 * afterEach(closeAll);
 * const origin = await startOrigin((_req, res) => res.end('hi'));
 * ```
 */
export { nsPerOp } from './bench.js';
export { request, rawRequest } from './clients.js';
export type { TestResponse } from './clients.js';
export { closeAll, onClose } from './closers.js';
export { memoryLogger } from './logger.js';
export type { CapturedLog, TestLogFn, TestLogger } from './logger.js';
export { nginxConfig, spawnNginx, startNginx } from './nginx.js';
export type { NginxOptions, TestNginx } from './nginx.js';
export { answerWhoCalled, startOrigin, startRawOrigin } from './origins.js';
export type { CallerSeen, TestOrigin } from './origins.js';
export { peerInstalled, peersRequired, requirePeer } from './peers.js';
export { connects, deadPort, freePort, waitForPort } from './ports.js';
export { processAlive, spawnTsFixture } from './processes.js';
export type { WaitForPortOptions } from './ports.js';
export { mulberry32 } from './random.js';
export { runReadmeExample } from './readme.js';
export { startService } from './service.js';
export type { ShutdownControl, StartableService } from './service.js';
export { waitFor, waitForEvent } from './wait.js';
export type { WaitOptions } from './wait.js';
