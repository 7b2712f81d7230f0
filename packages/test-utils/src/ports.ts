/**
 * Ports on 127.0.0.1 for tests and benchmarks: one to hand to a child process, one that refuses
 * connections, and a bounded wait until something listens.
 */
import net from 'node:net';

/**
 * A port that was free a moment ago (bound on 127.0.0.1:0, then closed), for a child process to
 * listen on. Another process could take it in between; on loopback in a test run that is rare.
 */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A port on 127.0.0.1 that nothing listens on (bound, then closed): connecting is refused. */
export function deadPort(): Promise<number> {
  return freePort();
}

/** Whether a TCP connection to 127.0.0.1:`port` succeeds right now. */
export function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Bounds of {@link waitForPort}. */
export interface WaitForPortOptions {
  /** Connection attempts before giving up. Default 250. */
  tries?: number;
  /** Pause between attempts, ms. Default 20. */
  intervalMs?: number;
}

/** Resolves once 127.0.0.1:`port` accepts a connection; rejects after `tries` refused attempts. */
export async function waitForPort(port: number, options: WaitForPortOptions = {}): Promise<void> {
  const { tries = 250, intervalMs = 20 } = options;
  for (let i = 0; i < tries; i++) {
    if (await connects(port)) return;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`nothing listens on ${port}`);
}
