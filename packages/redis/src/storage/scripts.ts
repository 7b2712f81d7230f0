/**
 * The storage's Lua scripts. An asset lives in Redis as:
 *
 * - `<p>{<hash>}:v:<id>`: one version, a hash with `meta`, `st` (`w` writing, `d` done,
 *   `a` aborted), `n` (chunks), `len` (bytes), `cs` (chunk size) and the chunks `c0`, `c1`, …;
 * - `<p>{<hash>}:k`: the id of the committed version (what lookups serve);
 * - `<p>{<hash>}:w`: the id of the write in progress, with a short expiry each chunk renews, so
 *   a writer that died stops being followed within `writeTimeoutMs`.
 *
 * The hash tag keeps one key's records in one cluster slot, so each script touches one slot.
 * Ids never repeat, so a version is immutable once done and a reader never sees two writers.
 */
import type { ScriptDefinition } from '../client.js';

/** KEYS: commit, write. ARGV: version prefix. → [id, meta, st, n, len, cs, c0] or nil. */
export const LOOKUP: ScriptDefinition = {
  numberOfKeys: 2,
  lua: `
local fields = {'meta', 'st', 'n', 'len', 'cs', 'c0'}
for i = 2, 1, -1 do
  local id = redis.call('GET', KEYS[i])
  if id then
    local r = redis.call('HMGET', ARGV[1] .. id, unpack(fields))
    if r[1] and r[2] ~= 'a' then
      return {id, r[1], r[2], r[3], r[4], r[5], r[6] or ''}
    end
  end
end
return nil`,
};

/** KEYS: version, write. ARGV: id, meta, writeTtlMs, chunkSize. */
export const BEGIN: ScriptDefinition = {
  numberOfKeys: 2,
  lua: `
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'meta', ARGV[2], 'st', 'w', 'n', 0, 'len', 0, 'cs', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[3])
return 1`,
};

/** KEYS: version, write. ARGV: id, index, chunk, writeTtlMs, newLength. → 1, or 0 if the version is gone. */
export const APPEND: ScriptDefinition = {
  numberOfKeys: 2,
  lua: `
if redis.call('HGET', KEYS[1], 'st') ~= 'w' then return 0 end
redis.call('HSET', KEYS[1], 'c' .. ARGV[2], ARGV[3], 'n', tonumber(ARGV[2]) + 1, 'len', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('PEXPIRE', KEYS[2], ARGV[4]) end
return 1`,
};

/** KEYS: version, write. ARGV: id, writeTtlMs. Keeps a slow write alive. → 1, or 0 if it is gone. */
export const TOUCH: ScriptDefinition = {
  numberOfKeys: 2,
  lua: `
if redis.call('HGET', KEYS[1], 'st') ~= 'w' then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
return 1`,
};

/**
 * KEYS: version, write, commit. ARGV: id, ttlMs, version prefix, graceMs.
 * → 1 committed, 0 finished but superseded or purged meanwhile (not served), -1 version gone.
 * The version it replaces keeps `graceMs` so readers in the middle of it can finish.
 */
export const FINISH: ScriptDefinition = {
  numberOfKeys: 3,
  lua: `
if redis.call('HGET', KEYS[1], 'st') ~= 'w' then return -1 end
redis.call('HSET', KEYS[1], 'st', 'd')
local grace = tonumber(ARGV[4])
if redis.call('GET', KEYS[2]) ~= ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], grace)
  return 0
end
redis.call('DEL', KEYS[2])
local old = redis.call('GET', KEYS[3])
if old and old ~= ARGV[1] then
  local okey = ARGV[3] .. old
  local t = redis.call('PTTL', okey)
  if t == -1 or t > grace then redis.call('PEXPIRE', okey, grace) end
end
redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`,
};

/** KEYS: version, write. ARGV: id, graceMs. Marks the version aborted so partial readers fail. */
export const ABORT: ScriptDefinition = {
  numberOfKeys: 2,
  lua: `
if redis.call('HGET', KEYS[1], 'st') == 'w' then
  redis.call('HSET', KEYS[1], 'st', 'a')
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return 1`,
};

/**
 * KEYS: commit, write. ARGV: version prefix, graceMs. → how many versions were unlinked.
 * Versions are left to expire after `graceMs` rather than deleted, so a read under way finishes.
 */
export const PURGE: ScriptDefinition = {
  numberOfKeys: 2,
  lua: `
local n = 0
local grace = tonumber(ARGV[2])
for i = 1, 2 do
  local id = redis.call('GET', KEYS[i])
  if id then
    redis.call('DEL', KEYS[i])
    local v = ARGV[1] .. id
    if redis.call('EXISTS', v) == 1 then
      n = n + 1
      local t = redis.call('PTTL', v)
      if t == -1 or t > grace then redis.call('PEXPIRE', v, grace) end
    end
  end
end
return n`,
};

/** KEYS: commit, write. ARGV: version prefix, meta, ttlMs. → 1 if an asset took the meta. */
export const UPDATE_META: ScriptDefinition = {
  numberOfKeys: 2,
  lua: `
local c = redis.call('GET', KEYS[1])
if c and redis.call('EXISTS', ARGV[1] .. c) == 1 then
  redis.call('HSET', ARGV[1] .. c, 'meta', ARGV[2])
  redis.call('PEXPIRE', ARGV[1] .. c, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 1
end
local w = redis.call('GET', KEYS[2])
if w and redis.call('EXISTS', ARGV[1] .. w) == 1 then
  redis.call('HSET', ARGV[1] .. w, 'meta', ARGV[2])
  return 1
end
return 0`,
};
