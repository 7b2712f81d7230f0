/**
 * Upgrade without a compiler, nginx's binary-upgrade model: the running server starts its
 * successor itself (this program again, with the same Node flags, script, arguments and
 * environment, so a new release installed in place is what runs), and the successor inherits every
 * listening socket as a file descriptor. Once it reports that its services listen, the old server
 * stops accepting and drains. No connection is refused: the sockets never close, and for a moment
 * both servers accept on them.
 */
import { spawn } from 'node:child_process';
import type { Logger } from '../../logger.js';
import type { ServerConf } from '../conf.js';
import { awaitReady } from '../daemon.js';
import { LISTEN_FDS_ENV, type ListenFds } from '../listen-fds.js';

/** Environment variable that marks a successor: it reports readiness and ignores `-u`. */
export const SUCCESSOR_ENV = 'PINGORA_TS_SUCCESSOR';

/** Whether this process was started by {@link startSuccessor}. */
export function isSuccessor(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[SUCCESSOR_ENV] === '1';
}

/**
 * Start the successor with the sockets of `fds` and wait until it reports ready (as a daemon
 * with `daemon_wait_for_ready` does), at most `daemon_ready_timeout_seconds`. Resolves with its pid
 * when it is serving, or undefined when it failed, exited or stayed silent — the old server then
 * keeps serving.
 */
export async function startSuccessor(
  fds: ListenFds,
  conf: ServerConf,
  logger: Logger,
): Promise<number | undefined> {
  const inherited = fds.forChild(4);
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    // A daemon's successor is a daemon too: its own session, output where the old one's went.
    detached: conf.daemon,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc', ...inherited.stdio],
    env: { ...process.env, [SUCCESSOR_ENV]: '1', [LISTEN_FDS_ENV]: inherited.env },
  });
  logger.info({ pid: child.pid, sockets: fds.size }, 'upgrade: successor started');
  const ready = await awaitReady(child, conf.daemonReadyTimeoutSeconds * 1000, logger, 'successor');
  if (child.connected) child.disconnect();
  child.unref();
  if (!ready) {
    if (child.exitCode === null) child.kill('SIGTERM');
    return undefined;
  }
  return child.pid;
}
