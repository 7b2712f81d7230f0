/**
 * Proof of safety for H1RequestParser: the same bytes go to it and to node's llhttp in strict mode
 * (a real node:http server, see the oracle file), and
 * - where llhttp refuses, we refuse;
 * - where both accept, method, target, version, the raw header list, the event (request, 100-continue,
 *   other expectation, upgrade, CONNECT), keep-alive, the body and the trailers are identical;
 * - where we refuse and llhttp accepts, the refusal is one of the deliberate differences below.
 * Cases: the fixed vectors, then a seeded generator/mutator (PINGORA_TS_FUZZ_CASES sets how many,
 * PINGORA_TS_FUZZ_SEED the seed). Our side gets each case whole, byte by byte, or in random splits.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate, rng, VECTORS } from './h1-request-differential.cases.test-data.js';
import {
  LlhttpOracle,
  type OracleMessage,
  type OracleResult,
} from './h1-request-differential.oracle.test-data.js';
import {
  EXPECT_CONTINUE,
  EXPECT_OTHER,
  H1RequestError,
  H1RequestParser,
  type ParsedRequestHead,
  type RequestRejection,
} from './h1-request-parser.js';

const MAX_HEAD = 16_384;

// The values of the fields named `name` (lower case) in a flat raw list.
function values(raw: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) out.push(raw[i + 1]!);
  return out;
}

/**
 * A field `name` whose value has HTAB in it (before more text or at its end). llhttp changed here:
 * Node 20's stops reading a Connection token at the tab (so `upgrade\t` and `keep-alive\t` count
 * for nothing) and refuses such a Content-Length; Node 24's trims the tab. We keep Node 20's
 * reading, the stricter one: no upgrade, no keep-alive, a refusal.
 */
function TAB_AFTER_VALUE(name: string): RegExp {
  return new RegExp(`\\n${name}:[ \\t]*[^ \\t\\r\\n][^\\r\\n]*\\t`, 'i');
}

/** Our reading differs from a newer llhttp's only by a Connection token cut at a tab (see above). */
function connectionTab(bytes: string): boolean {
  return TAB_AFTER_VALUE('connection').test(bytes);
}

/** What a deliberate difference is checked against: the request llhttp took and we refused. */
interface Refused {
  /** That request as llhttp parsed it. */
  m: OracleMessage;
  /** The whole case. */
  bytes: string;
  /** The request before it, as we and llhttp parsed it (for refusals that follow from it). */
  prevOurs: OracleMessage | undefined;
  prevTheirs: OracleMessage | undefined;
}

/**
 * Where we refuse what llhttp takes, on purpose. Each entry is a refusal class, why, and a test that
 * the request llhttp took really is of that class: a refusal is allowed only when both hold, so an
 * over-eager refusal of a valid request still fails the test.
 */
const STRICTER: ReadonlyArray<{ rejection: RequestRejection; why: string; applies(r: Refused): boolean }> = [
  {
    rejection: 'host-duplicate',
    why: 'two Host fields name two targets; node:http path refuses them after llhttp (400)',
    applies: ({ m }) => values(m.rawHeaders, 'host').length > 1,
  },
  {
    rejection: 'host-missing',
    why: 'HTTP/1.1 without Host: RFC 9112 §3.2 requires 400; node:http path refuses it after llhttp',
    applies: ({ m }) => m.version === '1.1' && values(m.rawHeaders, 'host').length === 0,
  },
  {
    rejection: 'target-form',
    why: '`*` only with OPTIONS, CONNECT only with authority-form, absolute-form needs scheme://authority (node:http path refuses the first and the last after llhttp; RFC 9112 §3.2.3 the second)',
    applies: ({ m }) => m.url[0] !== '/' || m.method === 'CONNECT',
  },
  {
    rejection: 'transfer-encoding',
    why: 'codings before chunked must be tokens (llhttp skips over anything); a field ending in HTAB hides its last coding from llhttp and from us, but we then refuse where llhttp may go on to a later chunked; an upgrade or CONNECT request gets its Transfer-Encoding checked too (llhttp checks it only when it reads a body, never for those)',
    applies: ({ m, bytes }) =>
      values(m.rawHeaders, 'transfer-encoding').some((v) =>
        v.split(',').some((c) => /[^!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(c.trim())),
      ) ||
      ((m.event === 'upgrade' || m.event === 'connect') &&
        values(m.rawHeaders, 'transfer-encoding').length > 0) ||
      /\ntransfer-encoding:[^\r\n]*\t/i.test(bytes),
  },
  {
    rejection: 'content-length',
    why: 'values above 2^53 − 1 are refused (llhttp takes up to 2^64 − 1); no JS number holds them exactly. A value followed by HTAB is refused too: the llhttp of Node 20 refuses it, newer ones (Node 24) trim it, and refusing is the reading that never disagrees with either',
    applies: ({ m, bytes }) =>
      values(m.rawHeaders, 'content-length').some((v) => Number(v) > Number.MAX_SAFE_INTEGER) ||
      TAB_AFTER_VALUE('content-length').test(bytes),
  },
  {
    rejection: 'chunk-size',
    why: 'chunk sizes above 2^53 − 1, as for Content-Length',
    applies: ({ bytes }) => /\n0*[1-9A-Fa-f][0-9A-Fa-f]{13,}/.test(bytes),
  },
  {
    rejection: 'chunk-extension',
    why: 'an empty extension name, HTAB/obs-text in quoted values, chunk-size lines over 4 KiB',
    applies: ({ bytes }) => /;=|;[^\r\n]*"[^\r\n]*[\t\x80-\xff]|[^\r\n]{4096}/.test(bytes),
  },
  {
    rejection: 'trailer',
    why: 'Content-Length/Transfer-Encoding in trailers describe a body already read (RFC 9110 §6.5.1)',
    applies: ({ m }) =>
      m.rawTrailers.some((n, i) => i % 2 === 0 && /^(content-length|transfer-encoding)$/i.test(n)),
  },
  {
    rejection: 'head-too-large',
    why: 'the limit counts the whole head (node counts only target, names and values)',
    applies: ({ bytes }) => bytes.length > MAX_HEAD,
  },
  {
    rejection: 'too-many-headers',
    why: "Pingora's 256 fields (node keeps 2000 and drops the rest silently)",
    applies: ({ m }) => m.rawHeaders.length > 512 || m.rawTrailers.length > 512,
  },
  {
    rejection: 'line-ending',
    why: 'a bare CR or LF before the request line (llhttp skips either as part of an empty line)',
    applies: ({ bytes }) => /\r(?!\n)|(?:^|[^\r])\n/.test(bytes),
  },
  {
    rejection: 'data-after-close',
    why: 'a request after one we close the connection on where llhttp keeps it open (see closesAnyway)',
    applies: ({ prevOurs, prevTheirs }) => prevOurs?.keepAlive === false && prevTheirs?.keepAlive === true,
  },
];

/**
 * Requests llhttp parses but node:http's path refuses right after it (HttpServer's dispatch: any
 * version but 1.x), so any refusal of ours is the same outcome: llhttp reads a request line ended by
 * a bare LF, or with no version, as HTTP/0.9, and takes HTTP/2.0 and PRI in such lines (505 or 400).
 */
const REFUSED_AFTER_LLHTTP = (m: OracleMessage) => m.version === '0.9' || m.version === '2.0';

/**
 * We may close the connection after a request llhttp keeps open, never the reverse: a `close`
 * option on HTTP/1.0 (llhttp looks only for keep-alive there), a `close` followed by HTAB (llhttp's
 * token reader misses it), HTTP/1.0 with Transfer-Encoding (RFC 9112 §6.1).
 */
function closesAnyway(m: OracleMessage): boolean {
  const close = values(m.rawHeaders, 'connection').some((v) => /close/i.test(v));
  return close || (m.version === '1.0' && values(m.rawHeaders, 'transfer-encoding').length > 0);
}

/**
 * Where we accept what llhttp refuses, on purpose: HTTP/1.2–1.9 are served as HTTP/1.1 (RFC 9110
 * §2.5), as node:http's path does by rewriting the version and parsing again. The oracle gets the
 * same rewrite of the first request line; nothing else is accepted beyond llhttp.
 */
const MINOR_ABOVE_1 = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+ +[^ \r\n]+ +HTTP\/1\.)[2-9](\r\n)/;

interface Ours {
  messages: OracleMessage[];
  error: H1RequestError | undefined;
}

function eventOf(h: ParsedRequestHead): string {
  if (h.upgrade) return h.method === 'CONNECT' ? 'connect' : 'upgrade';
  return h.expect === EXPECT_CONTINUE ? 'continue' : h.expect === EXPECT_OTHER ? 'expectation' : 'request';
}

// Runs our parser over `bytes` split at `cuts` (ascending offsets), as a session would.
function runOurs(bytes: Buffer, cuts: number[]): Ours {
  const out: Ours = { messages: [], error: undefined };
  let current: OracleMessage | undefined;
  let body: Buffer[] = [];
  let takenOver = false;
  const parser = new H1RequestParser({
    onHead(h) {
      current = {
        method: h.method,
        url: h.target,
        version: `1.${h.minorVersion}`,
        rawHeaders: h.rawHeaders,
        event: eventOf(h),
        keepAlive: h.keepAlive,
        body: undefined,
        rawTrailers: [],
        complete: false,
      };
      out.messages.push(current);
      body = [];
      // node:http's server has an 'upgrade' listener (HttpServer too): it takes every upgrade.
      if (h.upgrade) {
        current.complete = true;
        takenOver = true;
        return true;
      }
      return false;
    },
    onBody: (c) => body.push(Buffer.from(c)),
    onTrailers: (t) => {
      current!.rawTrailers = t;
    },
    onComplete() {
      current!.body = Buffer.concat(body).toString('latin1');
      current!.complete = true;
    },
  });
  try {
    let prev = 0;
    for (const cut of [...cuts, bytes.length]) {
      const piece = bytes.subarray(prev, cut);
      prev = cut;
      let off = 0;
      while (off < piece.length) {
        off = parser.execute(piece, off);
        if (takenOver) return out;
      }
    }
    parser.eof();
  } catch (e) {
    if (!(e instanceof H1RequestError) || typeof e.rejection !== 'string') throw e;
    out.error = e;
  }
  return out;
}

function sameMessage(a: OracleMessage, b: OracleMessage, bytes: string): string | undefined {
  for (const k of ['method', 'url', 'version', 'event'] as const) {
    if (a[k] !== b[k]) return `${k}: ours ${JSON.stringify(a[k])}, llhttp ${JSON.stringify(b[k])}`;
  }
  if (JSON.stringify(a.rawHeaders) !== JSON.stringify(b.rawHeaders)) {
    return `rawHeaders: ours ${JSON.stringify(a.rawHeaders)}, llhttp ${JSON.stringify(b.rawHeaders)}`;
  }
  if (a.event === 'upgrade' || a.event === 'connect') return undefined;
  if (a.body !== b.body) return `body: ours ${JSON.stringify(a.body)}, llhttp ${JSON.stringify(b.body)}`;
  if (JSON.stringify(a.rawTrailers) !== JSON.stringify(b.rawTrailers)) {
    return `trailers: ours ${JSON.stringify(a.rawTrailers)}, llhttp ${JSON.stringify(b.rawTrailers)}`;
  }
  if (a.keepAlive !== b.keepAlive && (a.keepAlive || !(closesAnyway(b) || connectionTab(bytes)))) {
    return `keepAlive: ours ${a.keepAlive}, llhttp ${b.keepAlive}`;
  }
  return undefined;
}

function stricterAllowed(e: H1RequestError, r: Refused): boolean {
  return STRICTER.some((s) => s.rejection === e.rejection && s.applies(r));
}

/** Why `ours` is not safe against `theirs`, or undefined when it is. */
function verdict(ours: Ours, theirs: OracleResult, bytes: string): string | undefined {
  const theirDone = theirs.messages.filter((m) => m.complete);
  const ourDone = ours.messages.filter((m) => m.complete);
  if (theirs.error !== undefined && ours.error === undefined) {
    const lenient =
      theirs.error === 'HPE_INVALID_METHOD' && /^QUERY /m.test(bytes) && !http.METHODS.includes('QUERY');
    if (!lenient) return `llhttp refused (${theirs.error}) and we accepted`;
  }
  if (ours.error !== undefined && ourDone.length < theirDone.length) {
    const n = ourDone.length;
    const refused: Refused = {
      m: theirDone[n]!,
      bytes,
      prevOurs: ourDone[n - 1],
      prevTheirs: theirDone[n - 1],
    };
    if (!REFUSED_AFTER_LLHTTP(refused.m) && !stricterAllowed(ours.error, refused)) {
      const then = theirs.error ? ` and then refused (${theirs.error})` : '';
      return `we refused (${ours.error.rejection}: ${ours.error.message}) where llhttp accepted${then}`;
    }
  }
  // A newer llhttp switches protocols on `Connection: upgrade\t`; we keep serving HTTP (the older
  // reading). Everything up to that request must agree; after it the two readings part by design.
  const parted = theirDone.findIndex(
    (m, i) => m.event === 'upgrade' && ourDone[i]?.event === 'request' && connectionTab(bytes),
  );
  if (parted >= 0) {
    for (let i = 0; i < parted; i++) {
      const why = sameMessage(ourDone[i]!, theirDone[i]!, bytes);
      if (why !== undefined) return `request ${i + 1}: ${why}`;
    }
    const a = ourDone[parted]!;
    const b = theirDone[parted]!;
    for (const k of ['method', 'url', 'version'] as const) {
      if (a[k] !== b[k])
        return `request ${parted + 1}: ${k}: ours ${JSON.stringify(a[k])}, llhttp ${JSON.stringify(b[k])}`;
    }
    return undefined;
  }
  if (ourDone.length > theirDone.length)
    return `we completed ${ourDone.length} requests, llhttp ${theirDone.length}`;
  for (let i = 0; i < ourDone.length; i++) {
    const why = sameMessage(ourDone[i]!, theirDone[i]!, bytes);
    if (why !== undefined) return `request ${i + 1}: ${why}`;
  }
  if (ours.error === undefined && theirs.error === undefined && ourDone.length !== theirDone.length) {
    return `we completed ${ourDone.length} requests, llhttp ${theirDone.length}`;
  }
  return undefined;
}

let oracle: LlhttpOracle;
beforeAll(async () => {
  oracle = new LlhttpOracle(MAX_HEAD);
  await oracle.start();
});
afterAll(() => oracle.stop());

// One case on both sides: whole, then byte by byte or in random pieces (chosen by `r`).
async function check(text: string, r: () => number, run: Run): Promise<string | undefined> {
  const bytes = Buffer.from(text, 'latin1');
  const theirs = await oracle.run(Buffer.from(text.replace(MINOR_ABOVE_1, '$11$2'), 'latin1'));
  if (theirs.error === undefined) run.accepted++;
  else run.refused++;
  const splits: number[][] = [[]];
  if (bytes.length < 400) splits.push(Array.from({ length: bytes.length - 1 }, (_, i) => i + 1));
  else {
    const cuts = new Set<number>();
    for (let i = 0; i < 8; i++) cuts.add(1 + Math.floor(r() * (bytes.length - 1)));
    splits.push([...cuts].sort((a, b) => a - b));
  }
  let first: string | undefined;
  for (const cuts of splits) {
    const ours = runOurs(bytes, cuts);
    const why = verdict(ours, theirs, text);
    if (why !== undefined) {
      const detail = JSON.stringify({ ours: { ...ours, error: ours.error?.message }, llhttp: theirs });
      return `${why} (split into ${cuts.length + 1} pieces)\n    ${detail.slice(0, 800)}`;
    }
    // Every split must give the same requests and the same verdict (the refusal reason may differ).
    const outcome = JSON.stringify([ours.messages, ours.error !== undefined]);
    if (first === undefined) first = outcome;
    else if (first !== outcome) return `split into ${cuts.length + 1} pieces: ${outcome} instead of ${first}`;
  }
  return undefined;
}

interface Run {
  failures: string[];
  /** Cases llhttp accepted whole / refused somewhere. */
  accepted: number;
  refused: number;
}

// Runs `n` checks with a few connections in flight.
async function checkAll(n: number, text: (i: number) => string, label: (i: number) => string): Promise<Run> {
  const run: Run = { failures: [], accepted: 0, refused: 0 };
  let next = 0;
  const r = rng(7);
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const t = text(i);
      const why = await check(t, r, run);
      if (why !== undefined)
        run.failures.push(`${label(i)}: ${why}\n    bytes: ${JSON.stringify(t).slice(0, 600)}`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return run;
}

describe('H1RequestParser against llhttp (strict, via node:http)', () => {
  it('lists each deliberate difference with a reason', () => {
    for (const s of STRICTER) expect(s.why.length).toBeGreaterThan(20);
    expect(new Set(STRICTER.map((s) => s.rejection)).size).toBe(STRICTER.length);
  });

  it('agrees on every fixed vector', async () => {
    const run = await checkAll(
      VECTORS.length,
      (i) => VECTORS[i]![1],
      (i) => VECTORS[i]![0],
    );
    expect(run.failures.join('\n')).toBe('');
  });

  const seed = Number(process.env.PINGORA_TS_FUZZ_SEED ?? 20_261_202);
  const n = Number(process.env.PINGORA_TS_FUZZ_CASES ?? 3000);
  // A long run (PINGORA_TS_FUZZ_CASES=100000) gets time in proportion; ~0.5 ms per case when idle.
  it('agrees on generated and mutated requests', { timeout: Math.max(60_000, n * 10) }, async () => {
    const run = await checkAll(
      n,
      (i) => generate(seed, i),
      (i) => `seed ${seed} case ${i}`,
    );
    const failed = `${run.failures.length} of ${n} cases failed (seed ${seed})`;
    expect(run.failures.slice(0, 15).join('\n'), failed).toBe('');
    // The generator must keep exercising both sides: valid requests and refused ones.
    expect([run.accepted, run.refused].map((c) => c > n / 5)).toEqual([true, true]);
  });
});
