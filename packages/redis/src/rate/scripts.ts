/**
 * The rate limiter's Lua scripts: a counter per key per window, `<p>{<key>}:<window>`, expiring
 * once it can no longer be the previous window. One round trip per call, atomic across instances.
 */
import type { ScriptDefinition } from '../client.js';

/** KEYS: current, previous window. ARGV: n, ttlMs. → [current count, previous count]. */
export const OBSERVE: ScriptDefinition = {
  numberOfKeys: 2,
  lua: `
local c = redis.call('INCRBY', KEYS[1], ARGV[1])
if c == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return {c, tonumber(redis.call('GET', KEYS[2]) or '0')}`,
};

/** KEYS: current, previous window. → [current count, previous count], counting nothing. */
export const PEEK: ScriptDefinition = {
  numberOfKeys: 2,
  lua: `
return {tonumber(redis.call('GET', KEYS[1]) or '0'), tonumber(redis.call('GET', KEYS[2]) or '0')}`,
};
