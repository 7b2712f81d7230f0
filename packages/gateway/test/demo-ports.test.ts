/**
 * Moving the demo to other ports: `PINGORA_TS_DEMO_PORTS` is read strictly, and the bundled file
 * moved to those ports names no default port anywhere yet stays valid.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEMO_FILE } from '../src/cli.js';
import { DEFAULT_DEMO_PORTS, demoFileText, demoPorts } from '../src/demo-origins.js';
import { validateGatewayText } from '../src/load/index.js';

describe('demoPorts', () => {
  it('unset or blank: the ports of the bundled file', () => {
    expect(demoPorts(undefined)).toEqual({ proxy: 6188, metrics: 6192, origins: [7101, 7102, 7103] });
    expect(demoPorts(' ')).toBe(DEFAULT_DEMO_PORTS);
  });

  it('five ports in order: proxy, metrics, then the three origins', () => {
    expect(demoPorts('8080, 8081,9001,9002,9003')).toEqual({
      proxy: 8080,
      metrics: 8081,
      origins: [9001, 9002, 9003],
    });
  });

  it('anything else is refused with what the variable must hold', () => {
    for (const bad of ['1,2,3,4', '1,2,3,4,5,6', '1,2,x,4,5', '0,2,3,4,5', '1,2,3,4,70000']) {
      expect(() => demoPorts(bad)).toThrow(/^PINGORA_TS_DEMO_PORTS must list five ports/);
    }
  });
});

describe('demoFileText', () => {
  const text = readFileSync(DEMO_FILE, 'utf8');
  const moved = demoFileText(text, { proxy: 18188, metrics: 18192, origins: [17101, 17102, 17103] });

  it('every default port is replaced, in listeners, backends, metrics and the home page', () => {
    for (const port of [6188, 6192, 7101, 7102, 7103]) expect(moved).not.toContain(`:${port}`);
    expect(moved).toContain('listeners:\n  - 127.0.0.1:18188\n');
    expect(moved).toContain('backends: [127.0.0.1:17101, 127.0.0.1:17102]');
    expect(moved).toContain('backends: [127.0.0.1:17103]');
    expect(moved).toContain('prometheus: { address: 127.0.0.1:18192 }');
    expect(moved).toContain('curl -i 127.0.0.1:18188/api/hello');
  });

  it('the moved file is still valid and otherwise the same', () => {
    expect(validateGatewayText(moved, 'demo.yaml').ok).toBe(true);
    expect(moved.replace(/127\.0\.0\.1:\d+/g, 'ADDR')).toBe(text.replace(/127\.0\.0\.1:\d+/g, 'ADDR'));
  });

  it('other ports are left alone', () => {
    expect(demoFileText('a: 127.0.0.1:6189\n', DEFAULT_DEMO_PORTS)).toBe('a: 127.0.0.1:6189\n');
  });
});
