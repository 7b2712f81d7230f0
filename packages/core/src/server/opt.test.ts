import { ErrorType, PingoraError } from '@pingora-ts/error';
import { describe, expect, it } from 'vitest';
import { Opt } from './opt.js';

describe('Opt.parseArgs', () => {
  it('defaults to everything off', () => {
    expect({ ...Opt.parseArgs([]) }).toEqual({
      upgrade: false,
      daemon: false,
      test: false,
      conf: undefined,
      nocapture: false,
      help: false,
      rest: [],
    });
  });

  it('reads long and short flags', () => {
    const long = Opt.parseArgs(['--upgrade', '--daemon', '--test', '--conf', 'a.yaml']);
    expect(long).toMatchObject({ upgrade: true, daemon: true, test: true, conf: 'a.yaml' });
    const short = Opt.parseArgs(['-u', '-d', '-t', '-c', 'b.yaml']);
    expect(short).toMatchObject({ upgrade: true, daemon: true, test: true, conf: 'b.yaml' });
  });

  it('accepts --conf=path, -cpath, -c=path and combined short flags', () => {
    expect(Opt.parseArgs(['--conf=/etc/p.yaml']).conf).toBe('/etc/p.yaml');
    expect(Opt.parseArgs(['-cp.yaml']).conf).toBe('p.yaml');
    expect(Opt.parseArgs(['-c=p.yaml']).conf).toBe('p.yaml');
    expect(Opt.parseArgs(['-dt'])).toMatchObject({ daemon: true, test: true });
    expect(Opt.parseArgs(['-dc', 'x.yaml'])).toMatchObject({ daemon: true, conf: 'x.yaml' });
  });

  it('keeps arguments after -- for the application', () => {
    const o = Opt.parseArgs(['-d', '--', '--port', '80', '-x']);
    expect(o.daemon).toBe(true);
    expect(o.rest).toEqual(['--port', '80', '-x']);
  });

  it('accepts --nocapture and -h/--help', () => {
    expect(Opt.parseArgs(['--nocapture']).nocapture).toBe(true);
    expect(Opt.parseArgs(['-h']).help).toBe(true);
    expect(Opt.parseArgs(['--help']).help).toBe(true);
  });

  const bad: Array<[string[], string]> = [
    [['--deamon'], "unknown option '--deamon'"],
    [['-x'], "unknown option '-x'"],
    [['-dx'], "unknown option '-x' in '-dx'"],
    [['conf.yaml'], "unexpected argument 'conf.yaml'"],
    [['-c'], 'option -c needs a path'],
    [['--conf'], 'option --conf needs a path'],
    [['--conf='], 'option --conf needs a path'],
    [['--daemon=yes'], 'option --daemon takes no value'],
  ];
  for (const [argv, message] of bad) {
    it(`rejects ${argv.join(' ')} with a clear message and the usage`, () => {
      let err: unknown;
      try {
        Opt.parseArgs(argv);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(PingoraError);
      expect((err as PingoraError).type).toBe(ErrorType.InternalError);
      expect((err as PingoraError).message).toContain(message);
      expect((err as PingoraError).message).toContain('-c, --conf <path>');
    });
  }

  it('reads process.argv by default', () => {
    const saved = process.argv;
    process.argv = ['node', 'server.js', '-t'];
    try {
      expect(Opt.parseArgs().test).toBe(true);
    } finally {
      process.argv = saved;
    }
  });
});
