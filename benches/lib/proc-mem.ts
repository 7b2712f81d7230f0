/**
 * Memory of another process and of a directory, read from outside (Linux /proc and du), for
 * targets that cannot report their own heap: nginx's resident set, the shared-memory zones it
 * keeps its cache keys in, and the files it keeps cached bodies in.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Resident set size of process `pid`, in bytes (VmRSS, shared pages it touched included). */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/**
 * Resident bytes of the anonymous shared mappings of `pid`: what `mmap(MAP_SHARED | MAP_ANON)`
 * gives, which the kernel shows as `/dev/zero (deleted)`. nginx allocates every shared zone (a
 * `keys_zone` among them) this way, and a zone only takes memory for the pages it has touched, so
 * the growth of this figure is what new keys cost.
 *
 * @example
 * ```ts
 * const before = sharedAnonRss(nginx.pid!);
 * // … cache 10,000 keys …
 * const perKey = (sharedAnonRss(nginx.pid!) - before) / 10_000;
 * ```
 */
export function sharedAnonRss(pid: number): number {
  let total = 0;
  let shared = false;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    // A mapping's header line starts with its address range; its fields follow, one per line.
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) {
      shared = header[1]!.startsWith('/dev/zero') || header[1]!.startsWith('/SYSV');
      continue;
    }
    const rss = shared ? /^Rss:\s+(\d+) kB$/.exec(line) : null;
    if (rss) total += Number(rss[1]) * 1024;
  }
  return total;
}

/** What a directory takes on disk. */
export interface DirUsage {
  /** Bytes of the blocks allocated (`du -sk`, times 1024). */
  allocated: number;
  /** Bytes of the files' contents (`du -sb`). */
  apparent: number;
  /** Regular files under it. */
  files: number;
}

/** Disk usage of `dir` with du and find (both in every Debian base system). */
export function dirUsage(dir: string): DirUsage {
  const du = (flag: string) => Number(execFileSync('du', [flag, dir], { encoding: 'utf8' }).split('\t')[0]);
  const list = execFileSync('find', [dir, '-type', 'f'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return {
    allocated: du('-sk') * 1024,
    apparent: du('-sb'),
    files: list.split('\n').filter((l) => l !== '').length,
  };
}
