/**
 * Validation of a gateway file: YAML syntax, then the zod schema, then core's check of the
 * `server` section; every problem found, each with the line and column of the key at fault.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type Document, LineCounter, parseDocument, type YAMLError } from 'yaml';
import { type GatewayConfig, gatewayConfig } from '../schema/index.js';
import { describeIssues, type PathProblem } from './issues.js';
import { keyPathAt, locate, unresolvedAliasAt } from './locate.js';
import { type ConfigProblem, formatPath, GatewayConfigError, sortProblems } from './problem.js';
import { tryServerConf } from './server-conf.js';

const READ_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
};

/** The result of {@link validateGatewayText}. */
export type GatewayValidation =
  | { ok: true; config: GatewayConfig }
  | { ok: false; problems: ConfigProblem[] };

function yamlProblem(e: YAMLError, doc: Document, lines: LineCounter, file: string): ConfigProblem {
  const { line, col } = lines.linePos(e.pos[0]);
  if (e.code === 'DUPLICATE_KEY') {
    const path = keyPathAt(doc, e.pos[0]);
    return {
      file,
      line,
      column: col,
      path: path === undefined ? '' : formatPath(path),
      message: 'duplicate key',
    };
  }
  // The yaml library's messages can span lines (with a code excerpt): keep the first.
  let message = `invalid YAML: ${e.message.split('\n')[0]}`;
  if (e.code === 'MULTIPLE_DOCS') message = 'the file must hold one YAML document (found a "---" after it)';
  return { file, line, column: col, path: '', message };
}

function place(doc: Document, lines: LineCounter, file: string, p: PathProblem): ConfigProblem {
  const { line, column } = locate(doc, lines, p.path, p.target);
  return { file, line, column, path: formatPath(p.path), message: p.message };
}

/**
 * Check the text of a gateway file. `file` labels the problems (it is not read). Returns the
 * validated config (defaults filled in, durations in ms, sizes in bytes) or every problem, in
 * file order: YAML syntax errors (duplicate keys included), unknown keys, wrong types and values,
 * unknown cluster names, and what `ServerConf` refuses in `server`.
 *
 * @example
 * ```ts
 * const r = validateGatewayText('upstreams:\n  app:\n    backends: [127.0.0.1:3000]\n    selection: round_robn\n', 'proxy.yaml');
 * if (!r.ok) console.log(r.problems.map(formatProblem).join('\n'));
 * // proxy.yaml:4:16: upstreams.app.selection: must be one of round_robin, random, fnv, ketama,
 * //   least_connections (did you mean "round_robin"?)
 * ```
 */
export function validateGatewayText(text: string, file: string): GatewayValidation {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const problems = doc.errors.map((e) => yamlProblem(e, doc, lines, file));
  // A repeated key leaves the document readable; any other syntax error may not.
  if (doc.errors.some((e) => e.code !== 'DUPLICATE_KEY'))
    return { ok: false, problems: sortProblems(problems) };
  let input: unknown;
  try {
    // An empty file (or one with only comments) is an empty mapping: the schema says what it lacks.
    input = doc.toJS() ?? {};
  } catch (err) {
    // Alias bombs (`maxAliasCount`) and aliases without an anchor are refused while converting.
    const message = `invalid YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
    const at = lines.linePos(unresolvedAliasAt(doc) ?? 0);
    const problem = { file, line: at.line, column: at.col, path: '', message };
    return { ok: false, problems: sortProblems([...problems, problem]) };
  }
  const parsed = gatewayConfig.safeParse(input, { reportInput: true });
  if (!parsed.success) {
    for (const p of describeIssues(gatewayConfig, parsed.error.issues))
      problems.push(place(doc, lines, file, p));
  }
  if (problems.length > 0 || !parsed.success) return { ok: false, problems: sortProblems(problems) };
  const server = tryServerConf(parsed.data, file);
  if (!server.ok) {
    const issue: PathProblem = { path: server.issue.path, target: 'value', message: server.issue.message };
    return { ok: false, problems: [place(doc, lines, file, issue)] };
  }
  return { ok: true, config: parsed.data };
}

/**
 * Read and validate a gateway file. Returns the config, the file name as given, and the
 * directory relative paths in the file start from (absolute). Throws a
 * {@link GatewayConfigError} listing every problem (an unreadable file is one problem).
 *
 * @example
 * ```ts
 * const { config, file, baseDir } = loadGatewayConfig('proxy.yaml');
 * ```
 */
export function loadGatewayConfig(path: string): { config: GatewayConfig; file: string; baseDir: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = READ_ERRORS[code ?? ''] ?? 'read failed';
    const message = `cannot read: ${reason}${code === undefined ? '' : ` (${code})`}`;
    throw new GatewayConfigError([{ file: path, line: 0, column: 0, path: '', message }]);
  }
  const result = validateGatewayText(text, path);
  if (!result.ok) throw new GatewayConfigError(result.problems);
  return { config: result.config, file: path, baseDir: dirname(resolve(path)) };
}
