/**
 * The command line of the `pingora-ts` binary. Pingora's server flags (`-c -t -d -u`) keep their
 * meaning, with `-c` naming the gateway file; anything unknown is an error, so a typo cannot go
 * unnoticed.
 */

/** Usage text, printed for `-h` and after a bad argument. */
export const CLI_USAGE = `Usage: pingora-ts -c <file.yaml> [options]
  -c, --conf <path>  the gateway file (YAML)
  -t, --test         check the file, print every mistake as file:line:column, and exit (1 if any)
  -d, --daemon       run in the background
  -u, --upgrade      take over the listening sockets of a running server (SIGQUIT upgrade)
      --demo         run the bundled demo file with its built-in origins
  -h, --help         print this help

Reload: send SIGHUP. The file is checked first; a valid file is applied through a zero-downtime
upgrade, an invalid one is refused with its mistakes while the running proxy keeps serving.
The demo listens on 6188 (proxy), 6192 (metrics) and 7101-7103 (origins); to move it, set
PINGORA_TS_DEMO_PORTS=proxy,metrics,origin1,origin2,origin3.`;

/** Parsed command line. */
export interface CliArgs {
  conf: string | undefined;
  test: boolean;
  daemon: boolean;
  upgrade: boolean;
  demo: boolean;
  help: boolean;
}

/** Parses `argv` (without node and the script); throws an Error naming a bad argument. */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  const args: CliArgs = {
    conf: undefined,
    test: false,
    daemon: false,
    upgrade: false,
    demo: false,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-c' || arg === '--conf') {
      const v = argv[++i];
      if (v === undefined || v === '') throw new Error(`${arg} needs a path`);
      args.conf = v;
    } else if (arg.startsWith('--conf=')) args.conf = arg.slice('--conf='.length);
    else if (arg === '--test') args.test = true;
    else if (arg === '--daemon') args.daemon = true;
    else if (arg === '--upgrade') args.upgrade = true;
    else if (arg === '--demo') args.demo = true;
    else if (arg === '--help') args.help = true;
    else if (/^-[tduhc]+$/.test(arg)) {
      // Combined short flags: -td, -tc file.
      for (const f of arg.slice(1)) {
        if (f === 't') args.test = true;
        else if (f === 'd') args.daemon = true;
        else if (f === 'u') args.upgrade = true;
        else if (f === 'h') args.help = true;
        else if (f === 'c') {
          const v = argv[++i];
          if (v === undefined || v === '') throw new Error('-c needs a path');
          args.conf = v;
        }
      }
    } else throw new Error(`unknown argument "${arg}"`);
  }
  if (!args.help && !args.demo && args.conf === undefined)
    throw new Error('no gateway file: pass -c <file.yaml> (or --demo)');
  if (args.demo && args.conf !== undefined)
    throw new Error('--demo runs the bundled file: do not pass -c too');
  return args;
}
