/**
 * Writes `schema/pingora-ts.schema.json` from the zod definition of the gateway file, then
 * formats it with Biome (as the lint expects). With `--check`, writes nothing and exits 1 when
 * the committed file no longer matches the definition.
 *
 *   pnpm --filter @pingora-ts/gateway gen:schema [--check]
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { GATEWAY_SCHEMA_FILE, gatewayJsonSchemaText, gatewaySchemaDrift } from '../src/schema/json-schema.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const file = fileURLToPath(new URL(`../${GATEWAY_SCHEMA_FILE}`, import.meta.url));

if (process.argv.includes('--check')) {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    console.error(`${GATEWAY_SCHEMA_FILE} is missing: run pnpm gen:schema`);
    process.exit(1);
  }
  const drift = gatewaySchemaDrift(text);
  if (drift !== undefined) {
    console.error(`${drift}: run pnpm gen:schema`);
    process.exit(1);
  }
  console.log(`${GATEWAY_SCHEMA_FILE} is up to date`);
} else {
  writeFileSync(file, gatewayJsonSchemaText());
  const biome = createRequire(import.meta.url).resolve('@biomejs/biome/bin/biome');
  execFileSync(
    process.execPath,
    [biome, 'format', '--write', '--config-path', '../tools', GATEWAY_SCHEMA_FILE],
    {
      cwd: packageDir,
      stdio: 'inherit',
    },
  );
  console.log(`wrote ${GATEWAY_SCHEMA_FILE}`);
}
