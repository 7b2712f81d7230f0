/**
 * `-t` on files with mistakes: each must print exactly these `file:line:column: key: message`
 * lines, in file order, with every mistake listed.
 */
import { describe, expect, it } from 'vitest';
import { formatProblem, validateGatewayText } from './index.js';

interface BadFile {
  readonly name: string;
  readonly yaml: string;
  readonly expected: readonly string[];
}

const APP = 'upstreams:\n  app:\n    backends: [127.0.0.1:3000]\n';

const BAD_FILES: readonly BadFile[] = [
  {
    name: 'misspelt key in a route match',
    yaml: `${APP}routes:\n  - upstream: app\n  - upstream: app\n  - upstream: app\n    match:\n      path_prefx: /api\n`,
    expected: ['proxy.yaml:9:7: routes[2].match.path_prefx: unknown key (did you mean "path_prefix"?)'],
  },
  {
    name: 'misspelt top-level key',
    yaml: `${APP}listners: ["0.0.0.0:80"]\n`,
    expected: ['proxy.yaml:4:1: listners: unknown key (did you mean "listeners"?)'],
  },
  {
    name: 'unknown key with nothing close',
    yaml: `${APP}    zebra: 1\n`,
    expected: ['proxy.yaml:4:5: upstreams.app.zebra: unknown key'],
  },
  {
    name: 'enum typo',
    yaml: `${APP}    selection: round_robn\n`,
    expected: [
      'proxy.yaml:4:16: upstreams.app.selection: must be one of round_robin, random, fnv, ketama, least_connections (did you mean "round_robin"?)',
    ],
  },
  {
    name: 'enum value far from any',
    yaml: `${APP}observability:\n  access_log:\n    format: xml\n`,
    expected: ['proxy.yaml:6:13: observability.access_log.format: must be one of readable, json, got "xml"'],
  },
  {
    name: 'number expected',
    yaml: `${APP}server:\n  threads: abc\n`,
    expected: ['proxy.yaml:5:12: server.threads: expected a number, got "abc"'],
  },
  {
    name: 'whole number expected',
    yaml: `${APP}    retries: 1.5\n`,
    expected: ['proxy.yaml:4:14: upstreams.app.retries: expected a whole number, got 1.5'],
  },
  {
    name: 'unknown cluster name',
    yaml: `${APP}routes:\n  - match: { path_prefix: /a }\n    upstream: ap\n`,
    expected: ['proxy.yaml:6:15: routes[0].upstream: no upstream named "ap" (did you mean "app"?)'],
  },
  {
    name: 'unknown cluster name, nothing close',
    yaml: `${APP}routes:\n  - upstream: billing\n`,
    expected: ['proxy.yaml:5:15: routes[0].upstream: no upstream named "billing" (known: app)'],
  },
  {
    name: 'listener neither string nor mapping',
    yaml: `${APP}listeners:\n  - 8080\n`,
    expected: ['proxy.yaml:5:5: listeners[0]: expected a string or a mapping, got 8080'],
  },
  {
    name: 'listener mapping with a misspelt key',
    yaml: `${APP}listeners:\n  - adress: 0.0.0.0:80\n`,
    expected: [
      'proxy.yaml:5:5: listeners[0]: missing required key "address"',
      'proxy.yaml:5:5: listeners[0].adress: unknown key (did you mean "address"?)',
    ],
  },
  {
    name: 'bad listener address',
    yaml: `${APP}listeners: [localhost]\n`,
    expected: [
      'proxy.yaml:4:13: listeners[0]: must be "host:port", "[ipv6]:port", "unix:/path" or an absolute socket path, got "localhost"',
    ],
  },
  {
    name: 'backend neither string nor mapping',
    yaml: 'upstreams:\n  app:\n    backends:\n      - 127.0.0.1:3000\n      - 3001\n',
    expected: ['proxy.yaml:5:9: upstreams.app.backends[1]: expected a string or a mapping, got 3001'],
  },
  {
    name: 'backend mapping missing its address',
    yaml: 'upstreams:\n  app:\n    backends:\n      - weight: 2\n',
    expected: ['proxy.yaml:4:9: upstreams.app.backends[0]: missing required key "address"'],
  },
  {
    name: 'cache neither boolean nor mapping',
    yaml: `${APP}routes:\n  - upstream: app\n    cache: "yes"\n`,
    expected: ['proxy.yaml:6:12: routes[0].cache: expected a boolean or a mapping, got "yes"'],
  },
  {
    name: 'cache mapping with a bad duration',
    yaml: `${APP}routes:\n  - upstream: app\n    cache:\n      ttl: 5 minutes\n`,
    expected: [
      'proxy.yaml:7:12: routes[0].cache.ttl: must be a duration such as "250ms", "5s", "2m" or "1h", got "5 minutes"',
    ],
  },
  {
    name: 'TLS listener missing its key',
    yaml: `${APP}listeners:\n  - address: 0.0.0.0:443\n    tls:\n      cert: cert.pem\n`,
    expected: ['proxy.yaml:6:5: listeners[0].tls: missing required key "key"'],
  },
  {
    name: 'route with two actions',
    yaml: `${APP}routes:\n  - upstream: app\n    respond:\n      status: 204\n`,
    expected: ['proxy.yaml:6:5: routes[0].respond: has upstream and respond: one action only'],
  },
  {
    name: 'route with no action',
    yaml: `${APP}routes:\n  - name: nothing\n    match: { path: /x }\n`,
    expected: ['proxy.yaml:5:5: routes[0]: needs one action: upstream, redirect, respond or static'],
  },
  {
    name: 'out of range numbers',
    yaml: 'upstreams:\n  app:\n    dns: { name: app.internal, port: 70000 }\n',
    expected: ['proxy.yaml:3:38: upstreams.app.dns.port: must be at most 65535, got 70000'],
  },
  {
    name: 'redirect status not a redirect',
    yaml: `${APP}routes:\n  - redirect: { to: /new, status: 200 }\n`,
    expected: ['proxy.yaml:5:35: routes[0].redirect.status: must be one of 301, 302, 303, 307, 308, got 200'],
  },
  {
    name: 'redis store without a redis section',
    yaml: `${APP}routes:\n  - upstream: app\n    rate_limit:\n      requests: 10\n      store: redis\n`,
    expected: ['proxy.yaml:8:14: routes[0].rate_limit.store: store: redis needs a top-level "redis" section'],
  },
  {
    name: 'empty rate limit list and zero requests',
    yaml: `${APP}routes:\n  - upstream: app\n    rate_limit: []\n  - upstream: app\n    rate_limit: { requests: 0 }\n`,
    expected: [
      'proxy.yaml:6:5: routes[0].rate_limit: must have at least one item',
      'proxy.yaml:8:29: routes[1].rate_limit.requests: must be greater than 0, got 0',
    ],
  },
  {
    name: 'bad CIDR and path prefix',
    yaml: `${APP}routes:\n  - upstream: app\n    allow: [10.0.0.0/33]\n    match: { path_prefix: api }\n`,
    expected: [
      'proxy.yaml:6:13: routes[0].allow[0]: must be an IP address or a CIDR block such as "10.0.0.0/8" or "2001:db8::/32", got "10.0.0.0/33"',
      'proxy.yaml:7:27: routes[0].match.path_prefix: must start with "/", got "api"',
    ],
  },
  {
    name: 'YAML syntax error',
    yaml: `${APP}routes:\n  - upstream: [app\n`,
    expected: [
      'proxy.yaml:6:1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ],
  },
  {
    name: 'duplicate key',
    yaml: `${APP}    selection: random\n    selection: fnv\n`,
    expected: ['proxy.yaml:5:5: upstreams.app.selection: duplicate key'],
  },
  {
    name: 'alias without an anchor',
    yaml: `${APP}    selection: *fast\n`,
    expected: [
      'proxy.yaml:4:16: invalid YAML: Unresolved alias (the anchor must be set before the alias): fast',
    ],
  },
  {
    name: 'two documents',
    yaml: `${APP}---\nroutes: []\n`,
    expected: ['proxy.yaml:4:1: the file must hold one YAML document (found a "---" after it)'],
  },
  {
    name: 'YAML 1.1 booleans are strings, and a refinement still runs',
    yaml: `${APP}    http2: yes\n    tls: { verify: no, client_cert: c.pem }\n`,
    expected: [
      'proxy.yaml:4:12: upstreams.app.http2: expected true or false, got "yes"',
      'proxy.yaml:5:20: upstreams.app.tls.verify: expected true or false, got "no"',
      'proxy.yaml:5:37: upstreams.app.tls.client_cert: client_cert and client_key go together',
    ],
  },
  {
    name: 'empty file',
    yaml: '# nothing yet\n',
    expected: [
      'proxy.yaml:1:1: routes: no routes and no upstreams: add an upstream (all requests go to it) or routes',
    ],
  },
  {
    name: 'several upstreams and no routes',
    yaml: `${APP}  api:\n    backends: [127.0.0.1:4000]\n`,
    expected: [
      'proxy.yaml:1:1: routes: no routes and several upstreams: add routes saying which requests go where',
    ],
  },
  {
    name: 'section left empty',
    yaml: `${APP}server:\n`,
    expected: ['proxy.yaml:4:1: server: expected a mapping, got an empty value'],
  },
  {
    name: 'top level is a list',
    yaml: '- upstreams\n',
    expected: ['proxy.yaml:1:1: expected a mapping, got a list'],
  },
  {
    name: 'wrong file version',
    yaml: `version: 2\n${APP}`,
    expected: ['proxy.yaml:1:10: version: must be 1, got 2'],
  },
  {
    name: 'bad cluster name',
    yaml: 'upstreams:\n  my app:\n    backends: [127.0.0.1:3000]\n',
    expected: [
      'proxy.yaml:2:3: upstreams["my app"]: cluster names use letters, digits, "_", "." and "-", got "my app"',
    ],
  },
  {
    name: 'server key core refuses (IPv6 in the IPv4 list)',
    yaml: `${APP}server:\n  client_bind_to_ipv4: [127.0.0.1, "::1"]\n`,
    expected: ['proxy.yaml:5:36: server.client_bind_to_ipv4[1]: must be an IPv4 address, got "::1"'],
  },
  {
    name: 'two routes with one name',
    yaml: `${APP}routes:\n  - name: web\n    upstream: app\n  - name: api\n    upstream: app\n  - upstream: app\n  - name: api\n    upstream: app\n`,
    expected: ['proxy.yaml:10:11: routes[3].name: "api" is already the name of routes[1]'],
  },
  {
    name: 'purge_allow without purge',
    yaml: `${APP}routes:\n  - upstream: app\n    cache:\n      purge_allow: [10.0.0.0/8]\n`,
    expected: ['proxy.yaml:7:7: routes[0].cache.purge_allow: purge_allow needs purge: true'],
  },
  {
    name: 'bad purge_allow block',
    yaml: `${APP}routes:\n  - upstream: app\n    cache: { purge: true, purge_allow: [10.0.0.0/33] }\n`,
    expected: [
      'proxy.yaml:6:41: routes[0].cache.purge_allow[0]: must be an IP address or a CIDR block such as "10.0.0.0/8" or "2001:db8::/32", got "10.0.0.0/33"',
    ],
  },
  {
    name: 'listener conditions: unknown scheme, port out of range',
    yaml: `${APP}routes:\n  - upstream: app\n    match: { scheme: ftp, port: [80, 70000] }\n`,
    expected: [
      'proxy.yaml:6:22: routes[0].match.scheme: must be one of http, https, got "ftp"',
      'proxy.yaml:6:38: routes[0].match.port[1]: must be at most 65535, got 70000',
    ],
  },
  {
    name: 'every mistake at once, in file order',
    yaml: `upstreams:\n  app:\n    backends: [127.0.0.1:3000]\n    selection: ketma\nroutes:\n  - upstream: ap\n    matc: {}\nserver:\n  threads: 0\n`,
    expected: [
      'proxy.yaml:4:16: upstreams.app.selection: must be one of round_robin, random, fnv, ketama, least_connections (did you mean "ketama"?)',
      'proxy.yaml:6:15: routes[0].upstream: no upstream named "ap" (did you mean "app"?)',
      'proxy.yaml:7:5: routes[0].matc: unknown key (did you mean "match"?)',
      'proxy.yaml:9:12: server.threads: must be greater than 0, got 0',
    ],
  },
];

describe('validateGatewayText on bad files', () => {
  it('has a table of at least 25 files', () => {
    expect(BAD_FILES.length).toBeGreaterThanOrEqual(25);
  });

  it.each(BAD_FILES)('$name', ({ yaml, expected }) => {
    const result = validateGatewayText(yaml, 'proxy.yaml');
    expect(result.ok).toBe(false);
    const lines = result.ok ? [] : result.problems.map(formatProblem);
    expect(lines).toEqual(expected);
  });
});
