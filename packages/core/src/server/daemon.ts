/**
 * Daemon mode without `fork()`. Node cannot fork a running event loop, so the launching process
 * re-runs the same command (same Node flags, script and arguments) detached in a new session,
 * with stdout/stderr appended to `error_log` (or `/dev/null`), and exits. The relaunched process
 * sees {@link DAEMON_CHILD_ENV}, does what Pingora's daemonize step does (pid file, umask 0o007,
 * working directory, group/user) and then serves.
 *
 * With `daemon_wait_for_ready`, the launcher exits only when the daemon reports that its services
 * are listening (0), failed (1), or did not answer within `daemon_ready_timeout_seconds` (1); the
 * report travels over an IPC channel instead of Pingora's SIGUSR1.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../logger.js';
import type { ServerConf } from './conf.js';

/** Environment variable that marks the relaunched (daemon) process. */
export const DAEMON_CHILD_ENV = 'PINGORA_TS_DAEMON_CHILD';

const READY = 'pingora-ts:ready';
const FAILED = 'pingora-ts:failed';

/** Whether this process is the daemon started by {@link launchDaemon}. */
export function isDaemonChild(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[DAEMON_CHILD_ENV] === '1';
}

/**
 * Write `pid` to `path`; an existing file is first renamed to `path + '.old'` (as Pingora does,
 * so the previous server's pid survives a graceful upgrade).
 */
export function writePidFile(path: string, pid: number = process.pid): void {
  if (existsSync(path)) renameSync(path, `${path}.old`);
  writeFileSync(path, String(pid));
}

/**
 * Relaunch this program as a daemon. Resolves with the exit code the launcher should use.
 */
export function launchDaemon(conf: ServerConf, logger: Logger): Promise<number> {
  let out: number;
  if (conf.errorLog !== undefined && conf.errorLog !== '') {
    mkdirSync(dirname(conf.errorLog), { recursive: true });
    out = openSync(conf.errorLog, 'a');
  } else {
    out = openSync('/dev/null', 'a');
  }
  const wait = conf.daemonWaitForReady;
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    detached: true,
    stdio: wait ? ['ignore', out, out, 'ipc'] : ['ignore', out, out],
    env: { ...process.env, [DAEMON_CHILD_ENV]: '1' },
  });
  closeSync(out);
  logger.info({ pid: child.pid }, 'daemon launched');
  if (!wait) {
    child.unref();
    return Promise.resolve(0);
  }
  return awaitReady(child, conf.daemonReadyTimeoutSeconds * 1000, logger, 'daemon').then((ready) => {
    if (child.connected) child.disconnect();
    child.unref();
    return ready ? 0 : 1;
  });
}

/**
 * Wait for a child started with an IPC channel to report (through {@link notifyLauncher}) that its
 * services are listening. Resolves false when it reports a failure, exits, cannot start, or stays
 * silent for `timeoutMs`; each case is logged with `what` naming the child.
 */
export function awaitReady(
  child: ChildProcess,
  timeoutMs: number,
  logger: Logger,
  what: string,
): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    // Whichever of the events below comes first decides; the rest are detached.
    const settle = (ready: boolean) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      child.off('error', onError);
      child.on('error', () => {});
      resolve(ready);
    };
    const timer = setTimeout(() => {
      logger.error({ pid: child.pid }, `${what} did not report ready in time`);
      settle(false);
    }, timeoutMs);
    const onMessage = (m: unknown) => {
      if (m === READY) settle(true);
      else if (m === FAILED) settle(false);
    };
    const onExit = (code: number | null) => {
      logger.error({ code }, `${what} exited before it was ready`);
      settle(false);
    };
    const onError = (err: Error) => {
      logger.error({ err }, `cannot launch the ${what}`);
      settle(false);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
    child.on('error', onError);
  });
}

/**
 * Daemonize steps in the relaunched process, before services start: umask 0o007, pid file,
 * working directory, then group and user (POSIX, needs privileges; the pid file keeps its owner).
 * As in Pingora, services bind after the switch: a low port then needs CAP_NET_BIND_SERVICE.
 */
export function enterDaemon(conf: ServerConf): void {
  process.umask(0o007);
  writePidFile(conf.pidFile);
  if (conf.workingDirectory !== undefined) process.chdir(conf.workingDirectory);
  if (conf.group !== undefined) {
    // Also drop the launcher's supplementary groups (root's), keeping only the configured one.
    process.setgroups?.([conf.group]);
    process.setgid?.(conf.group);
  }
  if (conf.user !== undefined) process.setuid?.(conf.user);
}

/** Tell a waiting launcher whether the services started; a no-op without an IPC channel. */
export function notifyLauncher(ready: boolean): void {
  if (process.send === undefined || !process.connected) return;
  process.send(ready ? READY : FAILED, () => {
    if (process.connected) process.disconnect();
  });
}
