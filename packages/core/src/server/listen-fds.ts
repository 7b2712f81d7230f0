/**
 * The listening-socket table (Pingora's `Fds`): listen address string → file descriptor of a
 * socket that is already bound and listening. One table per process. It is filled from what this
 * process inherited (a worker from its main process, a successor from the server it replaces, a
 * `-u` process from `upgrade_sock`) and by every fresh bind, so that whatever this process binds can
 * be handed on at the next upgrade. A listener whose address is in the table adopts the socket
 * instead of binding: no connection is refused while one server takes over from another.
 */

import { closeSync } from 'node:fs';

/** Environment variable carrying the inherited table: JSON `[[address, fd], …]`. */
export const LISTEN_FDS_ENV = 'PINGORA_TS_LISTEN_FDS';

/**
 * Address → fd of the listening sockets this process holds or inherited. Two listeners on the
 * same address string (only possible with port 0) are told apart by a `#2`, `#3`… suffix, given in
 * the order they are added and claimed; every process of a server walks its services in the same
 * order, so the n-th listener on an address gets the n-th socket.
 */
export class ListenFds {
  readonly #fds = new Map<string, number>();
  readonly #claimed = new Set<string>();
  /**
   * Set once the sockets were handed to another server: closing them must then leave Unix socket
   * paths in place, since the other server serves them now.
   */
  handedOver = false;

  /** The fd recorded under `key` (an address, maybe with its suffix). */
  get(key: string): number | undefined {
    return this.#fds.get(key);
  }

  /** Record that `fd` listens on `address`; returns the key it was stored under. */
  add(address: string, fd: number): string {
    let key = address;
    for (let n = 2; this.#fds.has(key); n++) key = `${address}#${n}`;
    this.#fds.set(key, fd);
    this.#claimed.add(key);
    return key;
  }

  /**
   * The fd of the first socket on `address` no listener of this process has taken yet, marking it
   * taken; undefined when there is none (bind fresh, then {@link add}).
   */
  claim(address: string): number | undefined {
    let key = address;
    for (let n = 2; this.#fds.has(key); n++) {
      if (!this.#claimed.has(key)) {
        this.#claimed.add(key);
        return this.#fds.get(key);
      }
      key = `${address}#${n}`;
    }
    return undefined;
  }

  /** Forget the entry holding `fd` (its socket was closed). */
  deleteFd(fd: number): void {
    for (const [key, f] of this.#fds) {
      if (f !== fd) continue;
      this.#fds.delete(key);
      this.#claimed.delete(key);
      return;
    }
  }

  /**
   * Close every inherited socket no listener of this process claimed, and forget it; returns
   * their keys. A successor whose configuration dropped a listener must not keep that socket open:
   * the kernel would go on queueing connections nobody accepts, and clients would hang instead
   * of being refused once the old server is gone.
   */
  closeUnclaimed(close: (fd: number) => void = closeSync): string[] {
    const dropped: string[] = [];
    for (const [key, fd] of this.#fds) {
      if (this.#claimed.has(key)) continue;
      this.#fds.delete(key);
      dropped.push(key);
      try {
        close(fd);
      } catch {
        // Already closed: nothing is left to release.
      }
    }
    return dropped;
  }

  /** Every entry (key, fd), in insertion order. */
  entries(): Array<[string, number]> {
    return [...this.#fds];
  }

  get size(): number {
    return this.#fds.size;
  }

  /** Add what the environment says this process inherited (unclaimed). */
  loadFromEnv(env: NodeJS.ProcessEnv = process.env): void {
    const text = env[LISTEN_FDS_ENV];
    if (text === undefined || text === '') return;
    for (const [key, fd] of parseEntries(text)) this.#fds.set(key, fd);
  }

  /** Add sockets received from an old server (unclaimed). */
  adopt(entries: Iterable<[string, number]>): void {
    for (const [key, fd] of entries) this.#fds.set(key, fd);
  }

  /**
   * What a child process needs to inherit every socket of the table: the extra `stdio` slots
   * (the child sees them as fds 4, 5, … after stdin, stdout, stderr and the IPC channel) and the
   * environment value describing them.
   */
  forChild(firstFd = 4): { stdio: number[]; env: string } {
    const stdio: number[] = [];
    const entries: Array<[string, number]> = [];
    for (const [key, fd] of this.#fds) {
      entries.push([key, firstFd + stdio.length]);
      stdio.push(fd);
    }
    return { stdio, env: JSON.stringify(entries) };
  }
}

function parseEntries(text: string): Array<[string, number]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${LISTEN_FDS_ENV} is not valid JSON`);
  }
  const ok =
    Array.isArray(parsed) &&
    parsed.every((e) => Array.isArray(e) && typeof e[0] === 'string' && Number.isInteger(e[1]) && e[1] >= 0);
  if (!ok) throw new Error(`${LISTEN_FDS_ENV} must be a list of [address, fd] pairs`);
  return parsed as Array<[string, number]>;
}

/** This process's table. */
export const listenFds = new ListenFds();
