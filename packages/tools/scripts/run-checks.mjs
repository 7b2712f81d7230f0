#!/usr/bin/env node
// The workspace test command. Runs every check even when an earlier one fails (turbo with
// --continue, then the link, meta-package and pack checks, which do not depend on the tests), and
// ends with one summary naming each failing test and check once, so a reader sees one failure as
// one line instead of a cascade of "Command failed". Exits 1 when anything failed.
//
//   node packages/tools/scripts/run-checks.mjs          lint, typecheck, tests, links, meta, pack
//   node packages/tools/scripts/run-checks.mjs --unit   the test suites only
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const scripts = join(root, 'packages', 'tools', 'scripts');
const unitOnly = process.argv.includes('--unit');
const results = mkdtempSync(join(tmpdir(), 'pingora-ts-test-results-'));

/** Runs a command with inherited output, also keeping stdout's text to read turbo's summary. */
function step(cmd, args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: root,
      env: { TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1', ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      out += chunk;
      if (out.length > 1 << 20) out = out.slice(-(1 << 19)); // only the tail holds the summary
    });
    child.on('error', (err) => resolve({ code: 1, out: String(err) }));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), out }));
  });
}

/** Every failed test in the vitest JSON reports, as `package › file › full name`. */
function failedTests() {
  const failed = [];
  for (const file of existsSync(results) ? readdirSync(results) : []) {
    let report;
    try {
      report = JSON.parse(readFileSync(join(results, file), 'utf8'));
    } catch {
      continue;
    }
    const pkg = file
      .replace(/\.json$/, '')
      .replace(/^_/, '@')
      .replace('_', '/');
    for (const suite of report.testResults ?? []) {
      const where = relative(root, suite.name ?? '');
      const failedHere = (suite.assertionResults ?? []).filter((a) => a.status === 'failed');
      for (const a of failedHere) {
        const why = String(a.failureMessages?.[0] ?? '').split('\n')[0];
        failed.push(`${pkg} › ${where} › ${a.fullName}${why ? `\n      ${why}` : ''}`);
      }
      // A file that failed to load or whose hooks failed has no failed assertion to name.
      if (suite.status === 'failed' && failedHere.length === 0) {
        const why = String(suite.message ?? '').split('\n')[0];
        failed.push(`${pkg} › ${where}${why ? `\n      ${why}` : ''}`);
      }
    }
  }
  return failed;
}

const turboBin = join(root, 'node_modules', '.bin', 'turbo');
const tasks = unitOnly ? ['test'] : ['lint', 'typecheck', 'test'];
const summary = [];
const turbo = await step(turboBin, ['run', ...tasks, '--continue'], {
  PINGORA_TS_TEST_RESULTS: results,
});
const failedTasks = /Failed:\s+(.+)/.exec(turbo.out)?.[1]?.split(/,\s*/).filter(Boolean) ?? [];
const tests = failedTests();
for (const task of failedTasks) {
  if (task.endsWith('#test') && tests.length > 0) continue; // named test by test below
  summary.push(`task ${task}`);
}
for (const t of tests) summary.push(`test ${t}`);
if (turbo.code !== 0 && summary.length === 0) summary.push(`turbo exited ${turbo.code}`);

if (!unitOnly) {
  for (const [name, file, args] of [
    ['link check', 'check-links.mjs', []],
    ['meta package check', 'gen-meta.mjs', ['--check']],
    ['pack check', 'pack-check.mjs', []],
  ]) {
    console.log(`\n> ${name}`);
    const { code } = await step(process.execPath, [join(scripts, file), ...args]);
    if (code !== 0) summary.push(name);
  }
}
rmSync(results, { recursive: true, force: true });

const ran = unitOnly ? 'test suites' : 'lint, typecheck, test suites, link, meta-package and pack checks';
if (summary.length === 0) {
  console.log(`\nall checks passed (${ran})`);
  process.exit(0);
}
console.error(`\n${summary.length} failure${summary.length === 1 ? '' : 's'} (${ran}):`);
for (const line of summary) console.error(`  ✗ ${line}`);
process.exit(1);
