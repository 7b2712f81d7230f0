#!/usr/bin/env node
// Prints the published packages of the workspace with their descriptions (the main job until the
// proxy demo exists).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
for (const dir of readdirSync(join(root, 'packages')).sort()) {
  const file = join(root, 'packages', dir, 'package.json');
  if (!existsSync(file)) continue;
  const pkg = JSON.parse(readFileSync(file, 'utf8'));
  if (!pkg.private) console.log(`${pkg.name.padEnd(28)} ${pkg.version.padEnd(8)} ${pkg.description}`);
}
