/**
 * `Opt`: Pingora's command-line options (`-u -d -t -c`), parsed from `process.argv` without a
 * CLI framework. Anything unrecognised is an error, so a typo (`--deamon`) cannot go unnoticed;
 * arguments after `--` are left for the application in {@link Opt.rest}.
 */
import { ErrorType } from '@pingora-ts/error';
import { lineError } from '../error-text.js';

/** Usage text, printed for `-h/--help`. */
export const OPT_USAGE = `Options:
  -u, --upgrade      take over the listening sockets of a running server (graceful upgrade)
  -d, --daemon       run in the background
  -t, --test         check the configuration and exit
  -c, --conf <path>  YAML configuration file
  -h, --help         print this help
  --                 everything after this is left to the application`;

const FLAGS = { u: 'upgrade', d: 'daemon', t: 'test', h: 'help' } as const;
const LONG: Record<string, 'upgrade' | 'daemon' | 'test' | 'help' | 'nocapture'> = {
  upgrade: 'upgrade',
  daemon: 'daemon',
  test: 'test',
  help: 'help',
  nocapture: 'nocapture',
};

// Options parsed from the real command line: their errors are the operator's, so `Server` reports
// them as one line and exits instead of throwing at the program that embeds it.
const fromCommandLine = new WeakSet<Opt>();

/** Whether `opt` came from {@link Opt.parseArgs} reading `process.argv` (internal). */
export function isCommandLineOpt(opt: Opt): boolean {
  return fromCommandLine.has(opt);
}

function fail(message: string): never {
  throw lineError(ErrorType.InternalError, `${message}\n${OPT_USAGE}`);
}

/**
 * Server command-line options. All false / undefined by default.
 *
 * @example
 * ```ts
 * const opt = Opt.parseArgs(); // e.g. `node server.js -d -c /etc/pingora/conf.yaml`
 * const server = new Server(opt);
 * ```
 */
export class Opt {
  /** `-u/--upgrade`: receive the listening sockets from the old process (not implemented yet). */
  upgrade = false;
  /** `-d/--daemon`: run in the background. */
  daemon = false;
  /** `-t/--test`: validate the configuration; `bootstrap()` then exits 0. */
  test = false;
  /** `-c/--conf <path>`: the YAML configuration file. */
  conf: string | undefined = undefined;
  /** `--nocapture`: Pingora's hidden test flag; accepted and ignored. */
  nocapture = false;
  /** `-h/--help`: `bootstrap()` prints {@link OPT_USAGE} and exits 0. */
  help = false;
  /** Arguments after `--`, untouched. */
  rest: string[] = [];

  constructor(values: Partial<Opt> = {}) {
    Object.assign(this, values);
  }

  /**
   * Parse `argv`. Short flags combine (`-dt`, `-dc conf.yaml`); the conf path may follow as the
   * next argument, be attached (`-cconf.yaml`) or use `=`. With `argv` given, a bad argument
   * throws a `PingoraError` (InternalError) naming it, followed by the usage. Without it, the
   * process's own arguments are parsed and a bad one is printed with the usage to stderr, and the
   * process exits 1; a `Server` made from such an `Opt` reports a bad conf file the same way.
   */
  static parseArgs(argv?: readonly string[]): Opt {
    if (argv !== undefined) return parse(argv);
    let opt: Opt;
    try {
      opt = parse(process.argv.slice(2));
    } catch (err) {
      // The message is the problem and then the usage: print it as it is, no stack.
      process.stderr.write(`${(err as Error).message}\n`);
      process.exit(1);
    }
    fromCommandLine.add(opt);
    return opt;
  }
}

function parse(argv: readonly string[]): Opt {
  const opt = new Opt();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = (name: string): string => {
      const v = argv[++i];
      if (v === undefined || v === '') fail(`option ${name} needs a path`);
      return v;
    };
    if (arg === '--') {
      opt.rest = argv.slice(i + 1);
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      if (name === 'conf') {
        opt.conf = eq < 0 ? next('--conf') : arg.slice(eq + 1);
        if (opt.conf === '') fail('option --conf needs a path');
        continue;
      }
      const flag = LONG[name];
      if (flag === undefined) fail(`unknown option '${arg}'`);
      if (eq >= 0) fail(`option --${name} takes no value`);
      opt[flag] = true;
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      for (let j = 1; j < arg.length; j++) {
        const c = arg[j]!;
        if (c === 'c') {
          const attached = arg.slice(j + 1).replace(/^=/, '');
          opt.conf = attached !== '' ? attached : next('-c');
          break;
        }
        const flag = FLAGS[c as keyof typeof FLAGS];
        if (flag === undefined) fail(`unknown option '-${c}'${arg.length > 2 ? ` in '${arg}'` : ''}`);
        opt[flag] = true;
      }
      continue;
    }
    fail(`unexpected argument '${arg}'`);
  }
  return opt;
}
