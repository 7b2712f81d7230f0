/**
 * The part of a Redis client this package uses, written out so nothing here loads ioredis at run
 * time: an `ioredis` `Redis` (v5 or later) satisfies it as it is. Scripts go through ioredis's
 * `defineCommand`, which sends EVALSHA and loads the script by itself when the server lost it.
 */

/** A script as `defineCommand` takes it. */
export interface ScriptDefinition {
  readonly numberOfKeys: number;
  readonly lua: string;
}

/** A Redis value sent as an argument. */
export type RedisArg = string | number | Buffer;

/**
 * The client calls pingora-ts makes. Pass an ioredis `Redis` built with fail-fast settings:
 * `enableOfflineQueue: false`, `maxRetriesPerRequest: 0` and a `commandTimeout`, so a proxy never
 * queues requests behind a Redis that is gone (each call also has a deadline of its own).
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * const client: RedisClient = new Redis({
 *   host: '10.0.0.5', enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 250,
 * });
 * ```
 */
export interface RedisClient {
  /** Registers a Lua script as commands `name` and `nameBuffer` on this client. */
  defineCommand(name: string, definition: ScriptDefinition): void;
  /** HMGET with binary replies. */
  hmgetBuffer(key: RedisArg, ...fields: RedisArg[]): Promise<(Buffer | null)[]>;
  /** A new connection with the same options (the lock's pub/sub subscriber). */
  duplicate(): RedisClient;
  subscribe(...channels: string[]): Promise<unknown>;
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'ready', listener: () => void): unknown;
  removeListener(event: 'message', listener: (channel: string, message: string) => void): unknown;
  disconnect(): void;
}

type ScriptFn = (...args: RedisArg[]) => Promise<unknown>;

const defined = new WeakMap<object, Set<string>>();

/**
 * Defines `name` on `client` once, then returns a caller for it; `buffer` asks for binary bulk
 * replies (ioredis's `nameBuffer` twin).
 */
export function scriptOn(
  client: RedisClient,
  name: string,
  definition: ScriptDefinition,
  buffer = false,
): ScriptFn {
  let names = defined.get(client);
  if (names === undefined) {
    names = new Set();
    defined.set(client, names);
  }
  if (!names.has(name)) {
    client.defineCommand(name, definition);
    names.add(name);
  }
  const methods = client as unknown as Record<string, ScriptFn | undefined>;
  const fn = methods[buffer ? `${name}Buffer` : name];
  if (typeof fn !== 'function') {
    throw new TypeError(`redis: the client has no command ${name} after defineCommand (is it ioredis?)`);
  }
  return fn.bind(client);
}
