/**
 * What a person sees from the `pingora-ts` binary before it serves: `-t` on a good and on a bad
 * file, a missing file, a bad argument, `-h`, and `--demo -t`. The binary runs in its own process.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_USAGE } from '../src/cli-args.js';
import { DEMO_FILE } from '../src/cli.js';
import { linesOf, runBinary, scratchDir, sweep } from './cli-process.js';

const dir = scratchDir('pingora-gateway-cli-');
afterAll(() => sweep([], dir));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const GOOD = `listeners: [127.0.0.1:8080]
upstreams:
  app: { backends: [127.0.0.1:3000] }
routes:
  - match: { path_prefix: /api/ }
    upstream: app
  - respond: { status: 200, body: hi }
`;

// Three mistakes: a misspelt top-level key, a misspelt match key, an unknown upstream.
const BAD = `listners: [127.0.0.1:8080]
upstreams:
  app: { backends: [127.0.0.1:3000] }
routes:
  - match: { path_prefx: /api/ }
    upstream: app
  - upstream: apq
`;

describe('pingora-ts -t', () => {
  it('a good file: one ok line on stdout, nothing on stderr, exit 0', async () => {
    const good = file('good.yaml', GOOD);
    const run = runBinary(['-t', '-c', good]);
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(linesOf(run.stdout())).toEqual([`${good}: ok (1 listener(s), 1 upstream(s), 2 route(s))`]);
    expect(run.stderr()).toBe('');
  });

  it('a file with three mistakes: each as file:line:column: key: message, in file order, exit 1', async () => {
    const bad = file('bad.yaml', BAD);
    const run = runBinary(['-c', bad, '-t']);
    expect(await run.exited).toEqual({ code: 1, signal: null });
    expect(linesOf(run.stderr())).toEqual([
      `${bad}:1:1: listners: unknown key (did you mean "listeners"?)`,
      `${bad}:5:14: routes[0].match.path_prefx: unknown key (did you mean "path_prefix"?)`,
      `${bad}:7:15: routes[1].upstream: no upstream named "apq" (did you mean "app"?)`,
      `${bad}: 3 problems`,
    ]);
    expect(run.stdout()).toBe('');
  });

  it('the same mistakes stop a plain start (no -t) before anything listens', async () => {
    const bad = file('bad-start.yaml', BAD);
    const run = runBinary(['-c', bad]);
    expect(await run.exited).toEqual({ code: 1, signal: null });
    expect(linesOf(run.stderr())[0]).toBe(`${bad}:1:1: listners: unknown key (did you mean "listeners"?)`);
    expect(run.stderr()).not.toContain('listening');
  });

  it('a missing file: exactly one line, exit 1', async () => {
    const missing = join(dir, 'missing.yaml');
    const run = runBinary(['-t', '-c', missing]);
    expect(await run.exited).toEqual({ code: 1, signal: null });
    expect(linesOf(run.stderr())).toEqual([`${missing}: cannot read: no such file (ENOENT)`]);
  });

  it('--demo -t: the bundled demo file is valid', async () => {
    const run = runBinary(['--demo', '-t']);
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(linesOf(run.stdout())).toEqual([`${DEMO_FILE}: ok (1 listener(s), 2 upstream(s), 5 route(s))`]);
  });
});

describe('pingora-ts arguments', () => {
  it('an unknown argument: the problem and the usage on stderr, exit 2', async () => {
    const run = runBinary(['-c', 'x.yaml', '--tset']);
    expect(await run.exited).toEqual({ code: 2, signal: null });
    expect(run.stderr()).toBe(`pingora-ts: unknown argument "--tset"\n${CLI_USAGE}\n`);
    expect(run.stdout()).toBe('');
  });

  it('no file at all: says how to pass one, exit 2', async () => {
    const run = runBinary([]);
    expect(await run.exited).toEqual({ code: 2, signal: null });
    expect(linesOf(run.stderr())[0]).toBe('pingora-ts: no gateway file: pass -c <file.yaml> (or --demo)');
  });

  it('-h: the usage on stdout, exit 0', async () => {
    const run = runBinary(['-h']);
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(run.stdout()).toBe(`${CLI_USAGE}\n`);
    expect(run.stdout()).toContain('Reload: send SIGHUP');
    expect(run.stderr()).toBe('');
  });

  it('a bad PINGORA_TS_DEMO_PORTS with --demo: one line naming the variable, exit 2', async () => {
    const run = runBinary(['--demo', '-t'], { PINGORA_TS_DEMO_PORTS: '1,2,3' });
    expect(await run.exited).toEqual({ code: 2, signal: null });
    expect(linesOf(run.stderr())).toEqual([
      'pingora-ts: PINGORA_TS_DEMO_PORTS must list five ports (proxy,metrics,origin1,origin2,origin3), got "1,2,3"',
    ]);
  });
});
