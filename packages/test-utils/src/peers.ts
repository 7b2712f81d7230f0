/**
 * The rule for tests that drive real peer tools (curl, nginx, h2load, wrk): a missing tool skips
 * those tests with a message, unless `PINGORA_TS_REQUIRE_PEERS=1` (CI installs the peers and sets
 * it), where the tests run anyway and fail.
 */
import { spawnSync } from 'node:child_process';

// Tools whose version flag is not `--version`.
const VERSION_ARGS: Record<string, readonly string[]> = { nginx: ['-v'], openssl: ['version'] };

/** Whether `PINGORA_TS_REQUIRE_PEERS=1`: a missing peer tool is a failure, not a skip. */
export function peersRequired(): boolean {
  return process.env.PINGORA_TS_REQUIRE_PEERS === '1';
}

/** Whether `tool` runs here (its version command exits 0). */
export function peerInstalled(tool: string): boolean {
  return spawnSync(tool, VERSION_ARGS[tool] ?? ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Whether the tests that need `tool` should run: true when it is installed, and also when it is
 * missing but required (they then fail); false, with a warning, when it is missing and optional.
 *
 * @example
 * ```ts
 * const hasCurl = requirePeer('curl');
 * it.runIf(hasCurl)('curl through the proxy', async () => { … });
 * ```
 */
export function requirePeer(tool: string): boolean {
  if (peerInstalled(tool)) return true;
  if (peersRequired()) {
    console.error(`${tool} is not installed and PINGORA_TS_REQUIRE_PEERS=1: the tests that need it fail`);
    return true;
  }
  console.warn(
    `skipping the tests that need ${tool}: not installed (set PINGORA_TS_REQUIRE_PEERS=1 to fail)`,
  );
  return false;
}
