/**
 * What a disk cache does when it opens: load the saved eviction state, walk the level directories to
 * remove what dead writers left (temporary files, `.partial` links, torn files) and reconcile the
 * state with the files really there: unknown assets are admitted (evicting past the budget), known
 * ones whose file is gone are forgotten.
 */
import { readdir, stat, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { EvictionEntry, EvictionManager } from '../../eviction/eviction.js';
import { readSnapshot } from '../../eviction/persist.js';
import type { StorageKey } from '../storage.js';
import { pidAlive } from '../../lock/lock-files.js';
import { fileKind, type Levels, tempOwner } from './layout.js';
import { closeFd } from './fd.js';
import { openAsset } from './read.js';

/** What {@link startUp} needs from the storage. */
export interface StartUpContext {
  root: string;
  levels: Levels;
  stateDir: string;
  eviction: EvictionManager;
  staleMs: number;
  /** Freshness of a meta read from a file. */
  freshUntil: (meta: Uint8Array) => number;
  fileOf: (key: StorageKey) => string;
}

/** Loads the state, cleans the tree and reconciles the two (see the module comment). */
export async function startUp(ctx: StartUpContext): Promise<void> {
  const saved = await loadState(ctx.eviction, ctx.stateDir);
  const seen = new Set<string>();
  await walk(ctx, ctx.root, 0, seen);
  for (const entry of saved) {
    if (!seen.has(ctx.fileOf(entry.key))) ctx.eviction.remove(entry.key);
  }
}

/** The saved entries (empty when there is no usable state: the walk then admits every file). */
async function loadState(eviction: EvictionManager, dir: string): Promise<EvictionEntry[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const kind = names.find((n) => n.endsWith('.eviction.json'))?.slice(0, -'.eviction.json'.length);
  if (kind === undefined) return [];
  try {
    await eviction.load(dir);
    return await readSnapshot(dir, kind);
  } catch {
    return [];
  }
}

async function walk(ctx: StartUpContext, dir: string, depth: number, seen: Set<string>): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  if (depth < ctx.levels.length) {
    for (const e of entries) {
      if (e.isDirectory() && e.name.length === ctx.levels[depth]) {
        await walk(ctx, join(dir, e.name), depth + 1, seen);
      }
    }
    return;
  }
  for (const e of entries) {
    if (!e.isFile()) continue;
    const path = join(dir, e.name);
    const kind = fileKind(e.name);
    if (kind === 'temp') await sweepTemp(path, e.name, ctx.staleMs);
    else if (kind === 'asset') await reconcile(ctx, path, seen);
  }
  // After the temp files, so a dead writer's link is the only name left on its file.
  for (const e of entries) {
    if (e.isFile() && fileKind(e.name) === 'partial') await sweepPartial(join(dir, e.name), ctx.staleMs);
  }
}

/** A writer's temporary file whose writer is gone (or silent for `staleMs`) is removed. */
async function sweepTemp(path: string, name: string, staleMs: number): Promise<void> {
  const owner = tempOwner(name);
  const alive = owner !== undefined && (owner === process.pid || pidAlive(owner));
  const st = await stat(path).catch(() => undefined);
  if (st === undefined) return;
  if (!alive || Date.now() - st.mtimeMs > staleMs) await unlink(path).catch(() => {});
}

/** A `.partial` link left alone (its temporary file is gone) or silent for `staleMs` is removed. */
async function sweepPartial(path: string, staleMs: number): Promise<void> {
  const st = await stat(path).catch(() => undefined);
  if (st === undefined) return;
  if (st.nlink < 2 || Date.now() - st.mtimeMs > staleMs) await unlink(path).catch(() => {});
}

/** Admits an asset file the state does not know; removes a file that is not a complete asset. */
async function reconcile(ctx: StartUpContext, path: string, seen: Set<string>): Promise<void> {
  // A file named by its key that the state knows needs no read (a restart after a clean shutdown).
  if (ctx.eviction.peek({ hashKey: basename(path), userTag: '' })) {
    seen.add(path);
    return;
  }
  let asset: Awaited<ReturnType<typeof openAsset>>;
  try {
    asset = await openAsset(path);
  } catch {
    await unlink(path).catch(() => {});
    return;
  }
  if (asset === undefined) return;
  if (asset.fd !== undefined) closeFd(asset.fd);
  const { header } = asset;
  if (header.state !== 'done' || ctx.fileOf(header.key) !== path) {
    await unlink(path).catch(() => {});
    return;
  }
  seen.add(path);
  if (ctx.eviction.peek(header.key)) return;
  let freshUntil: number;
  try {
    freshUntil = ctx.freshUntil(header.meta);
  } catch {
    await unlink(path).catch(() => {});
    seen.delete(path);
    return;
  }
  const victims = ctx.eviction.admit(header.key, header.bodyOffset + header.bodyLength, freshUntil);
  for (const victim of victims) {
    const file = ctx.fileOf(victim);
    seen.delete(file);
    await unlink(file).catch(() => {});
  }
}
