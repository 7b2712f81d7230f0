/**
 * The cache lock's Lua scripts. A key's lock is `<p>{<hash>}` holding the writer's token with an
 * expiry of `ageTimeoutMs`; when the writer ends, `<p>{<hash>}:o:<token>` keeps how it ended for a
 * while, so a waiter that missed the pub/sub message still learns the outcome on its next poll.
 */
import type { ScriptDefinition } from '../client.js';

/** KEYS: lock. ARGV: token, ttlMs. → the holder's token (ours when we got the lock). */
export const ACQUIRE: ScriptDefinition = {
  numberOfKeys: 1,
  lua: `
local cur = redis.call('GET', KEYS[1])
if cur then return cur end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ARGV[1]`,
};

/** KEYS: lock. ARGV: holder token. → 'Waiting', the outcome the holder published, or 'Gone'. */
export const POLL: ScriptDefinition = {
  numberOfKeys: 1,
  lua: `
if redis.call('GET', KEYS[1]) == ARGV[1] then return 'Waiting' end
return redis.call('GET', KEYS[1] .. ':o:' .. ARGV[1]) or 'Gone'`,
};

/**
 * KEYS: lock. ARGV: token, outcome, outcomeTtlMs, channel, message. Deletes the lock only if it is
 * still ours (it may have expired and gone to another writer), records the outcome and tells the
 * waiters.
 */
export const RELEASE: ScriptDefinition = {
  numberOfKeys: 1,
  lua: `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('SET', KEYS[1] .. ':o:' .. ARGV[1], ARGV[2], 'PX', ARGV[3])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1`,
};
