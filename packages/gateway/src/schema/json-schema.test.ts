/** The committed JSON Schema is the one the zod definition gives (what `gen:schema --check` runs). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  GATEWAY_SCHEMA_FILE,
  GATEWAY_SCHEMA_ID,
  gatewayJsonSchema,
  gatewaySchemaDrift,
} from './json-schema.js';

const committed = readFileSync(new URL(`../../${GATEWAY_SCHEMA_FILE}`, import.meta.url), 'utf8');

describe('gateway JSON Schema', () => {
  it('is committed up to date', () => {
    expect(gatewaySchemaDrift(committed)).toBeUndefined();
  });

  it('reports drift at the first differing key', () => {
    const edited = JSON.parse(committed);
    edited.properties.upstreams.additionalProperties.properties.selection.enum.push('least_time');
    expect(gatewaySchemaDrift(JSON.stringify(edited))).toBe(
      `${GATEWAY_SCHEMA_FILE} differs from the zod schema at /properties/upstreams/additionalProperties/properties/selection/enum/5`,
    );
    expect(gatewaySchemaDrift('{')).toMatch(/is not JSON/);
  });

  it('is a 2020-12 schema with an id and closed mappings', () => {
    const schema = gatewayJsonSchema();
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.$id).toBe(GATEWAY_SCHEMA_ID);
    expect(schema.additionalProperties).toBe(false);
    expect(JSON.stringify(schema)).not.toContain('"format":"starts_with"');
  });
});
