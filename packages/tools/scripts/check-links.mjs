#!/usr/bin/env node
// Dead-link check for the Markdown the workspace ships and shows: every relative link in a
// tracked *.md file must name a file or folder that exists, and a `#fragment` must name a heading
// of the target document. Links to other sites are not fetched (tests and CI reach no network);
// their syntax alone is checked. Part of `pnpm lint`.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes, repeats numbered. */
export function headingAnchors(markdown) {
  const anchors = new Set();
  const seen = new Map();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    const m = !fenced && /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = m[1]
      .replace(/`/g, '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** Inline links and images outside code: `[text](target)`, with the target's title dropped. */
export function markdownLinks(markdown) {
  const links = [];
  let fenced = false;
  markdown.split('\n').forEach((line, i) => {
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      return;
    }
    if (fenced) return;
    const text = line.replace(/`[^`]*`/g, '');
    for (const m of text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      links.push({ target: m[1], line: i + 1 });
    }
  });
  return links;
}

function check() {
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.md'], {
    cwd: root,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((f) => f && !f.startsWith('.changeset/') && existsSync(join(root, f)));
  const problems = [];
  const anchorsOf = new Map();
  const anchors = (file) => {
    if (!anchorsOf.has(file)) anchorsOf.set(file, headingAnchors(readFileSync(file, 'utf8')));
    return anchorsOf.get(file);
  };
  let count = 0;
  for (const file of files) {
    const abs = join(root, file);
    for (const { target, line } of markdownLinks(readFileSync(abs, 'utf8'))) {
      count++;
      const where = `${file}:${line}`;
      if (/^(https?:|mailto:)/i.test(target)) {
        try {
          new URL(target);
        } catch {
          problems.push(`${where}: malformed URL ${target}`);
        }
        continue;
      }
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // other schemes are not ours to check
      const [path, fragment] = target.split('#', 2);
      const dest = path ? resolve(dirname(abs), decodeURIComponent(path)) : abs;
      if (!existsSync(dest)) {
        problems.push(`${where}: ${target}: no such file ${relative(root, dest)}`);
        continue;
      }
      if (fragment && statSync(dest).isFile() && dest.endsWith('.md') && !anchors(dest).has(fragment)) {
        problems.push(`${where}: ${target}: no heading #${fragment} in ${relative(root, dest)}`);
      }
    }
  }
  if (problems.length) {
    console.error(`dead links (${problems.length}):\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`links ok: ${count} links in ${files.length} Markdown files`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) check();
