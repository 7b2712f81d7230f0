/**
 * The JSON Schema of the gateway file, generated from the zod definition (`gatewayConfig`), so
 * what editors complete and check is what `-t` accepts. Published as
 * `@pingora-ts/gateway/schema.json` (`schema/pingora-ts.schema.json`); `pnpm gen:schema` writes
 * it and `pnpm gen:schema --check` fails when the committed file has drifted.
 */
import { z } from 'zod';
import { gatewayConfig } from './index.js';

/** Where editors fetch the schema from (a comment `# yaml-language-server: $schema=<this>`). */
export const GATEWAY_SCHEMA_ID = 'https://unpkg.com/@pingora-ts/gateway/schema/pingora-ts.schema.json';

const STANDARD_FORMATS = new Set([
  'date-time',
  'date',
  'time',
  'duration',
  'email',
  'hostname',
  'ipv4',
  'ipv6',
  'uri',
  'uuid',
  'regex',
]);

/** Path of the published schema, relative to the package root. */
export const GATEWAY_SCHEMA_FILE = 'schema/pingora-ts.schema.json';

/**
 * The JSON Schema (draft 2020-12) of the file as written: defaults are optional, durations and
 * sizes accept their string forms. Checks zod runs in code (CIDR syntax, regular expressions,
 * cross-references) are not expressible here and are left to `-t`.
 *
 * @example
 * ```ts
 * const schema = gatewayJsonSchema();
 * schema.$id; // GATEWAY_SCHEMA_ID
 * ```
 */
export function gatewayJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(gatewayConfig, {
    io: 'input',
    target: 'draft-2020-12',
    override: ({ jsonSchema }) => {
      // zod names `startsWith` a format; JSON Schema has no such format and the pattern beside
      // it already says the same, so drop it (strict validators refuse unknown formats).
      if (jsonSchema.format !== undefined && !STANDARD_FORMATS.has(jsonSchema.format))
        delete jsonSchema.format;
    },
  });
  const { $schema, ...rest } = generated;
  return { $schema, $id: GATEWAY_SCHEMA_ID, ...rest, title: 'pingora-ts gateway configuration' };
}

/** The schema as JSON text (two-space indents, final newline), before Biome formats it. */
export function gatewayJsonSchemaText(): string {
  return `${JSON.stringify(gatewayJsonSchema(), null, 2)}\n`;
}

/** The first JSON pointer at which `a` and `b` differ, or undefined when they are equal. */
function firstDifference(a: unknown, b: unknown, at = ''): string | undefined {
  if (a === b) return undefined;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return at || '/';
  if (Array.isArray(a) !== Array.isArray(b)) return at || '/';
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  for (const k of new Set([...Object.keys(ra), ...Object.keys(rb)])) {
    const d = firstDifference(ra[k], rb[k], `${at}/${k.replaceAll('~', '~0').replaceAll('/', '~1')}`);
    if (d !== undefined) return d;
  }
  return undefined;
}

/**
 * Compare a committed schema file's text with the schema the zod definition gives now. Returns
 * undefined when they agree (formatting aside: the file is formatted by Biome), else a one-line
 * description naming the first JSON pointer that differs.
 *
 * @example
 * ```ts
 * gatewaySchemaDrift(readFileSync('schema/pingora-ts.schema.json', 'utf8')); // undefined
 * ```
 */
export function gatewaySchemaDrift(committedText: string): string | undefined {
  let committed: unknown;
  try {
    committed = JSON.parse(committedText);
  } catch (err) {
    return `${GATEWAY_SCHEMA_FILE} is not JSON: ${(err as Error).message}`;
  }
  const at = firstDifference(committed, gatewayJsonSchema());
  return at === undefined ? undefined : `${GATEWAY_SCHEMA_FILE} differs from the zod schema at ${at}`;
}
