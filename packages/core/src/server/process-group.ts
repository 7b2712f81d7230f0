/**
 * The processes of one server: the main process and its workers when `threads` > 1, or this one
 * process alone. State with a single owner (health checks, discovery) lives in the main process and
 * reaches the workers as published messages; per-process state (metrics) is collected with
 * {@link ProcessGroup.gather}. Messages ride Node's IPC channel between the main process and each
 * worker, tagged so a user's own `process.send` traffic is left alone.
 */
import type { ChildProcess } from 'node:child_process';
import { workerIdFromEnv } from './workers.js';

/** `single`: no workers. `main`: the supervisor of workers. `worker`: one of them. */
export type ProcessRole = 'single' | 'main' | 'worker';

/** Messaging between the processes of one server. */
export interface ProcessGroup {
  /** What this process is. */
  readonly role: ProcessRole;
  /** This worker's index (0-based); undefined outside workers. */
  readonly workerId: number | undefined;
  /**
   * Send `message` (structured-clone safe) to every other process of the group. With `retainKey`,
   * the main process keeps the latest message per topic and key and replays them to workers that
   * start later (a replaced worker learns the current health of every backend this way).
   */
  publish(topic: string, message: unknown, retainKey?: string): void;
  /** Receive what the other processes publish on `topic`. Returns an unsubscribe function. */
  subscribe(topic: string, listener: (message: unknown) => void): () => void;
  /**
   * Ask every process of the group, this one included, for its answer on `topic`. Resolves with
   * the answers that arrived within `timeoutMs` (default 5000), main process first; a process with
   * no answerer or whose answerer failed is left out.
   */
  gather(topic: string, payload?: unknown, timeoutMs?: number): Promise<unknown[]>;
  /** Answer {@link gather} requests on `topic` in this process. Returns a function that stops. */
  answer(topic: string, handler: (payload: unknown) => unknown): () => void;
}

const TAG = 'pingora-ts:group';

type Wire =
  | { t: typeof TAG; k: 'pub'; topic: string; msg: unknown; retain?: string }
  | { t: typeof TAG; k: 'req'; id: number; topic: string; payload: unknown; ms: number }
  | { t: typeof TAG; k: 'res'; id: number; values: unknown[] };

function isWire(m: unknown): m is Wire {
  return typeof m === 'object' && m !== null && (m as { t?: unknown }).t === TAG;
}

/** The group implementation; the `Server` switches its role before any service starts. */
export class ProcessGroupState implements ProcessGroup {
  // A worker knows it is one from the start (its environment says so), so code that runs before
  // `runForever()` can tell; the main process learns its role when the server starts.
  workerId: number | undefined = workerIdFromEnv();
  role: ProcessRole = this.workerId === undefined ? 'single' : 'worker';
  readonly #subs = new Map<string, Set<(message: unknown) => void>>();
  readonly #answerers = new Map<string, (payload: unknown) => unknown>();
  readonly #workers = new Map<number, ChildProcess>();
  readonly #retained = new Map<string, Wire>();
  readonly #pending = new Map<number, (values: unknown[]) => void>();
  #nextId = 1;
  #onParentMessage: ((m: unknown) => void) | undefined;

  publish(topic: string, message: unknown, retainKey?: string): void {
    const wire: Wire = { t: TAG, k: 'pub', topic, msg: message };
    if (retainKey !== undefined) wire.retain = retainKey;
    if (this.role === 'worker') this.#toParent(wire);
    else if (this.role === 'main') this.#fanOut(wire, undefined);
  }

  subscribe(topic: string, listener: (message: unknown) => void): () => void {
    let set = this.#subs.get(topic);
    if (set === undefined) {
      set = new Set();
      this.#subs.set(topic, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  answer(topic: string, handler: (payload: unknown) => unknown): () => void {
    this.#answerers.set(topic, handler);
    return () => {
      if (this.#answerers.get(topic) === handler) this.#answerers.delete(topic);
    };
  }

  async gather(topic: string, payload?: unknown, timeoutMs = 5000): Promise<unknown[]> {
    if (this.role === 'single') {
      const own = await this.#answerLocal(topic, payload);
      return own === undefined ? [] : own;
    }
    if (this.role === 'worker') return this.#request(undefined, topic, payload, timeoutMs);
    return this.#gatherAsMain(topic, payload, timeoutMs);
  }

  /** Main process: start routing messages of worker `id`; replays the retained messages to it. */
  attachWorker(id: number, child: ChildProcess): void {
    this.role = 'main';
    this.#workers.set(id, child);
    child.on('message', (m: unknown) => {
      if (isWire(m)) this.#fromWorker(id, m);
    });
    for (const wire of this.#retained.values()) send(child, wire);
  }

  /** Main process: worker `id` is gone. */
  detachWorker(id: number): void {
    this.#workers.delete(id);
  }

  /** Become worker `id`, talking to the main process over this process's IPC channel. */
  becomeWorker(id: number): void {
    this.role = 'worker';
    this.workerId = id;
    if (this.#onParentMessage !== undefined) return;
    this.#onParentMessage = (m: unknown) => {
      if (isWire(m)) this.#fromParent(m);
    };
    process.on('message', this.#onParentMessage);
  }

  /** Main process: mark the role before the first worker exists. */
  becomeMain(): void {
    this.role = 'main';
  }

  /** Stop listening on the IPC channel so it no longer keeps a worker alive. */
  detachParent(): void {
    if (this.#onParentMessage !== undefined) process.off('message', this.#onParentMessage);
    this.#onParentMessage = undefined;
  }

  #deliver(topic: string, msg: unknown): void {
    const set = this.#subs.get(topic);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        listener(msg);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  async #answerLocal(topic: string, payload: unknown): Promise<unknown[] | undefined> {
    const handler = this.#answerers.get(topic);
    if (handler === undefined) return undefined;
    try {
      return [await handler(payload)];
    } catch {
      return undefined;
    }
  }

  #fanOut(wire: Wire & { k: 'pub' }, except: number | undefined): void {
    if (wire.retain !== undefined) this.#retained.set(`${wire.topic}\0${wire.retain}`, wire);
    for (const [id, child] of this.#workers) if (id !== except) send(child, wire);
  }

  #fromWorker(id: number, m: Wire): void {
    if (m.k === 'pub') {
      this.#deliver(m.topic, m.msg);
      this.#fanOut(m, id);
    } else if (m.k === 'req') {
      // Answer before the asking worker gives up (its own timer runs from a little earlier), so
      // a sibling that never answers costs only its own answer, not everyone's.
      const wait = Math.max(1, m.ms - Math.min(250, m.ms / 5));
      void this.#gatherAsMain(m.topic, m.payload, wait).then((values) => {
        const child = this.#workers.get(id);
        if (child !== undefined) send(child, { t: TAG, k: 'res', id: m.id, values });
      });
    } else this.#settle(m);
  }

  #fromParent(m: Wire): void {
    if (m.k === 'pub') this.#deliver(m.topic, m.msg);
    else if (m.k === 'req') {
      void this.#answerLocal(m.topic, m.payload).then((own) => {
        this.#toParent({ t: TAG, k: 'res', id: m.id, values: own ?? [] });
      });
    } else this.#settle(m);
  }

  #settle(m: Wire & { k: 'res' }): void {
    const done = this.#pending.get(m.id);
    if (done === undefined) return;
    this.#pending.delete(m.id);
    done(m.values);
  }

  async #gatherAsMain(topic: string, payload: unknown, timeoutMs: number): Promise<unknown[]> {
    const asks = [...this.#workers.values()].map((child) => this.#request(child, topic, payload, timeoutMs));
    const [own, ...theirs] = await Promise.all([this.#answerLocal(topic, payload), ...asks]);
    return [...(own ?? []), ...theirs.flat()];
  }

  #request(
    child: ChildProcess | undefined,
    topic: string,
    payload: unknown,
    timeoutMs: number,
  ): Promise<unknown[]> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        resolve([]);
      }, timeoutMs);
      this.#pending.set(id, (values) => {
        clearTimeout(timer);
        resolve(values);
      });
      const wire: Wire = { t: TAG, k: 'req', id, topic, payload, ms: timeoutMs };
      const sent = child === undefined ? this.#toParent(wire) : send(child, wire);
      if (!sent) this.#settle({ t: TAG, k: 'res', id, values: [] });
    });
  }

  #toParent(wire: Wire): boolean {
    if (typeof process.send !== 'function' || !process.connected) return false;
    process.send(wire, undefined, {}, () => {});
    return true;
  }
}

function send(child: ChildProcess, wire: Wire): boolean {
  if (!child.connected) return false;
  // A worker that died between the check and the write surfaces as a callback error; ignore it,
  // its exit is handled by the supervisor.
  child.send(wire, undefined, {}, () => {});
  return true;
}

/**
 * This process's group. Outside a multi-process server it is `single`: `publish` goes nowhere and
 * `gather` returns this process's own answer.
 *
 * @example
 * ```ts
 * // Every process answers with its registry; one scrape sees them all.
 * processGroup.answer('metrics', () => registry.getMetricsAsJSON());
 * const perProcess = await processGroup.gather('metrics');
 * ```
 */
export const processGroup: ProcessGroup = new ProcessGroupState();

/** The mutable side of {@link processGroup}, for the server's process supervision. */
export function groupState(): ProcessGroupState {
  return processGroup as ProcessGroupState;
}
