/**
 * The YAML shown in the READMEs is valid as written: every ```yaml block of the repository README
 * and of this package's README passes the validator (and so the JSON Schema, which comes from the
 * same definition).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatProblem, validateGatewayText } from '../src/load/index.js';

const root = join(import.meta.dirname, '..', '..', '..');
const readmes = [join(root, 'README.md'), join(root, 'packages', 'gateway', 'README.md')];

/** A yaml block followed by a ```text block is a bad file and the output `-t` prints for it. */
interface Block {
  yaml: string;
  expected: string[] | undefined;
}

function blocks(file: string): Block[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/```yaml\n(.*?)```((?:(?!```)[\s\S])*?```text\n(.*?)```)?/gs)].map((m) => ({
    yaml: m[1]!,
    expected: m[3]?.trim().split('\n'),
  }));
}

function yamlBlocks(file: string): string[] {
  return blocks(file)
    .filter((b) => b.expected === undefined)
    .map((b) => b.yaml);
}

describe('README gateway files', () => {
  for (const file of readmes) {
    it(`every yaml block of ${file.slice(root.length + 1)} is a valid gateway file`, () => {
      const blocks = yamlBlocks(file);
      expect(blocks.length).toBeGreaterThan(0);
      for (const text of blocks) {
        const result = validateGatewayText(text, file);
        expect(result.ok ? [] : result.problems.map(formatProblem)).toEqual([]);
      }
    });
  }

  it("the gateway README's bad file prints exactly the problems shown", () => {
    const bad = blocks(readmes[1]!).filter((b) => b.expected !== undefined);
    expect(bad.length).toBe(1);
    const result = validateGatewayText(bad[0]!.yaml, 'proxy.yaml');
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    expect([...problems.map(formatProblem), `proxy.yaml: ${problems.length} problems`]).toEqual(
      bad[0]!.expected,
    );
  });

  it('the five-line file really is five lines and a working reverse proxy', () => {
    const [block] = yamlBlocks(readmes[0]!);
    const lines = block!.split('\n').filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
    expect(lines.length).toBeLessThanOrEqual(5);
    const result = validateGatewayText(block!, 'README.md');
    if (!result.ok) throw new Error(result.problems.map(formatProblem).join('\n'));
    expect(result.config.routes).toEqual([]);
    expect(Object.keys(result.config.upstreams)).toEqual(['app']);
  });
});
