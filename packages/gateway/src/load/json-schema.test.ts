/**
 * The published JSON Schema and the validator come from one zod definition: ajv with the schema
 * accepts the files `-t` accepts and refuses the same unknown keys and enum typos, and every
 * example config passes both.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { formatProblem, validateGatewayText } from './index.js';

const packageDir = fileURLToPath(new URL('../..', import.meta.url));
const schema = JSON.parse(readFileSync(join(packageDir, 'schema/pingora-ts.schema.json'), 'utf8'));
// `type: [string, boolean]` is plain 2020-12; ajv's strict mode only asks to be told it is wanted.
const ajv = new Ajv2020({ allErrors: true, allowUnionTypes: true });
const schemaValid = ajv.compile(schema);

function bothVerdicts(text: string): { zod: boolean; ajv: boolean } {
  return { zod: validateGatewayText(text, 'x.yaml').ok, ajv: schemaValid(parse(text) ?? {}) };
}

const GOOD = [
  'upstreams:\n  app:\n    backends: [127.0.0.1:3000]\n',
  `listeners:
  - 127.0.0.1:8080
  - address: 127.0.0.1:8443
    tls: { cert: c.pem, key: k.pem, alpn: h2h1, sni: { a.example: { cert: a.pem, key: a.key } } }
upstreams:
  web:
    backends: [127.0.0.1:3000, { address: 127.0.0.1:3001, weight: 3 }]
    selection: ketama
    hash_key: header:x-user
    health_check: { type: http, path: /health, interval: 2s }
  api:
    dns: { name: api.internal, port: 443 }
    tls: { sni: api.example, verify: true }
routes:
  - match: { host: [a.example, "*.b.example"], path_prefix: /api, method: [GET, POST] }
    upstream: api
    rate_limit: [{ requests: 100, per: 1m }, { requests: 10, key: route }]
    request_headers: { set: { x-proxy: pingora-ts }, remove: [cookie] }
  - match: { path: /old }
    redirect: { to: /new, status: 301 }
  - respond: { status: 204 }
    match: { path: /ping }
  - upstream: web
    cache: { ttl: 5m, vary: [accept-encoding] }
    compression: { level: 5 }
observability:
  access_log: { format: json }
  prometheus: { address: 127.0.0.1:9091 }
`,
];

const BAD: [name: string, text: string][] = [
  ['unknown top-level key', 'upstreams:\n  app:\n    backends: [127.0.0.1:3000]\nlistners: []\n'],
  ['unknown nested key', 'upstreams:\n  app:\n    backends: [127.0.0.1:3000]\n    selecton: random\n'],
  ['enum typo', 'upstreams:\n  app:\n    backends: [127.0.0.1:3000]\n    selection: round_robn\n'],
  ['wrong type', 'upstreams:\n  app:\n    backends: [127.0.0.1:3000]\n    retries: many\n'],
  ['bad duration', 'upstreams:\n  app:\n    backends: [127.0.0.1:3000]\n    timeouts: { connect: 5 sec }\n'],
];

describe('the JSON Schema and the validator agree', () => {
  it.each(GOOD.map((text, i) => [i, text]))('good file %i passes both', (_, text) => {
    expect(bothVerdicts(text)).toEqual({ zod: true, ajv: true });
  });

  it.each(BAD)('%s fails both', (_, text) => {
    expect(bothVerdicts(text)).toEqual({ zod: false, ajv: false });
  });

  it('names the same unknown key as ajv does', () => {
    const text = BAD[1]![1];
    schemaValid(parse(text));
    expect(schemaValid.errors?.[0]).toMatchObject({
      keyword: 'additionalProperties',
      params: { additionalProperty: 'selecton' },
    });
    const result = validateGatewayText(text, 'x.yaml');
    expect(result.ok ? [] : result.problems.map(formatProblem)).toEqual([
      'x.yaml:4:5: upstreams.app.selecton: unknown key (did you mean "selection"?)',
    ]);
  });
});

describe('example configs', () => {
  // The examples (another part of the issue) and the demo the binary runs; either may be absent.
  const dirs = [join(packageDir, '../../examples/configs'), join(packageDir, 'demo')];
  const files = dirs.flatMap((dir) => {
    try {
      return readdirSync(dir)
        .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
        .map((f) => join(dir, f));
    } catch {
      return [];
    }
  });

  if (files.length === 0) it.skip('no example configs yet', () => {});
  else
    it.each(files)('%s passes the validator and the JSON Schema', (file) => {
      const text = readFileSync(file, 'utf8');
      const result = validateGatewayText(text, file);
      expect(result.ok ? [] : result.problems.map(formatProblem)).toEqual([]);
      schemaValid(parse(text));
      expect(schemaValid.errors ?? []).toEqual([]);
    });
});
