/**
 * Inputs of the differential test: fixed vectors (the proxy's hardening and smuggling tests, the
 * well-known smuggling families, edge cases of every rule) and a seeded generator/mutator.
 */

const P = 'POST / HTTP/1.1\r\nHost: a\r\n';
const G = 'GET / HTTP/1.1\r\nHost: a\r\n';
const TE = `${P}Transfer-Encoding: chunked\r\n\r\n`;

/** Named vectors, all latin1 strings. */
export const VECTORS: ReadonlyArray<readonly [string, string]> = [
  // The proxy's smuggling.test.ts and hardening.test.ts vectors.
  ['CL and TE', `${P}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`],
  ['TE and CL', `${P}Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n`],
  ['conflicting CL', `${P}Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd`],
  ['duplicate CL', `${P}Content-Length: 4\r\nContent-Length: 4\r\n\r\nabcd`],
  ['CL list', `${P}Content-Length: 4, 4\r\n\r\nabcd`],
  ['CL +4', `${P}Content-Length: +4\r\n\r\nabcd`],
  ['CL -4', `${P}Content-Length: -4\r\n\r\nabcd`],
  ['CL 0x4', `${P}Content-Length: 0x4\r\n\r\nabcd`],
  ['CL leading zeros', `${P}Content-Length: 0004\r\n\r\nabcd`],
  ['CL with spaces', `${P}Content-Length:  4 \r\n\r\nabcd`],
  ['CL 4 4', `${P}Content-Length: 4 4\r\n\r\nabcd`],
  ['CL empty', `${P}Content-Length: \r\n\r\nabcd`],
  ['CL overflow', `${P}Content-Length: 99999999999999999999\r\n\r\nabcd`],
  ['CL 2^53', `${P}Content-Length: 9007199254740992\r\n\r\nabcd`],
  ['TE xchunked', `${P}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`],
  ['TE chunked, identity', `${P}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`],
  ['TE identity, chunked', `${P}Transfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n`],
  ['TE gzip, chunked', `${P}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`],
  ['TE gzip only', `${P}Transfer-Encoding: gzip\r\n\r\n`],
  ['TE duplicate chunked', `${P}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`],
  ['TE chunked then gzip', `${P}Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n`],
  ['TE gzip then chunked', `${P}Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`],
  ['TE leading space', `${P}Transfer-Encoding:  chunked\r\n\r\n0\r\n\r\n`],
  ['TE leading tab', `${P}Transfer-Encoding:\tchunked\r\n\r\n0\r\n\r\n`],
  ['TE trailing space', `${P}Transfer-Encoding: chunked \r\n\r\n0\r\n\r\n`],
  ['TE upper case', `${P}Transfer-Encoding: CHUNKED\r\n\r\n0\r\n\r\n`],
  ['TE trailing comma', `${P}Transfer-Encoding: chunked,\r\n\r\n0\r\n\r\n`],
  ['TE leading comma', `${P}Transfer-Encoding: ,chunked\r\n\r\n0\r\n\r\n`],
  ['TE with parameter', `${P}Transfer-Encoding: chunked;q=1\r\n\r\n0\r\n\r\n`],
  ['TE quoted', `${P}Transfer-Encoding: "chunked"\r\n\r\n0\r\n\r\n`],
  ['TE chunkedx', `${P}Transfer-Encoding: chunkedx\r\n\r\n0\r\n\r\n`],
  ['TE space before colon', `${P}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n`],
  ['TE tab before colon', `${P}Transfer-Encoding\t: chunked\r\n\r\n0\r\n\r\n`],
  ['TE underscore name', `${P}Transfer_Encoding: chunked\r\n\r\n0\r\n\r\n`],
  ['TE folded', `${P}Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n`],
  ['TE vertical tab', `${P}Transfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n`],
  ['TE trailing tab', `${P}Transfer-Encoding: chunked\t\r\n\r\n0\r\n\r\n`],
  ['TE space then tab', `${P}Transfer-Encoding: chunked \t\r\n\r\n0\r\n\r\n`],
  ['TE tab after gzip', `${P}Transfer-Encoding: gzip\t, chunked\r\n\r\n0\r\n\r\n`],
  ['TE tab before chunked', `${P}Transfer-Encoding: gzip,\tchunked\r\n\r\n0\r\n\r\n`],
  [
    'TE tab-hidden chunked then chunked',
    `${P}Transfer-Encoding: chunked\t\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
  ],
  ['CL trailing tab', `${P}Content-Length: 4\t\r\n\r\nabcd`],
  ['CL leading tab', `${P}Content-Length:\t4\r\n\r\nabcd`],
  ['CL space then tab', `${P}Content-Length: 4 \t \r\n\r\nabcd`],
  ['Connection close tab', `${G}Connection: close\t\r\n\r\n`],
  ['Connection upgrade tab', `${G}Upgrade: h2c\r\nConnection: upgrade\t\r\n\r\n`],
  ['Connection upgrade tab, x', `${G}Upgrade: h2c\r\nConnection: upgrade\t, x\r\n\r\n`],
  ['Connection keep-alive tab', 'GET / HTTP/1.0\r\nConnection: keep-alive\t\r\n\r\n'],
  ['Connection x, tab close', `${G}Connection: x,\tclose\r\n\r\n`],
  ['TE on HTTP/1.0', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n'],
  [
    'TE on HTTP/1.0 keep-alive',
    'POST / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  ],
  ['chunk size overflow', `${TE}FFFFFFFFFFFFFFFFF\r\n`],
  ['chunk size 2^60', `${TE}FFFFFFFFFFFFFFF\r\n`],
  ['chunk size leading zeros', `${TE}0004\r\nabcd\r\n0\r\n\r\n`],
  ['chunk size space', `${TE}4 \r\nabcd\r\n0\r\n\r\n`],
  ['chunk size BWS before ext', `${TE}4 ;a\r\nabcd\r\n0\r\n\r\n`],
  ['chunk size sign', `${TE}+1\r\nx\r\n0\r\n\r\n`],
  ['chunk size 0x', `${TE}0x1\r\nx\r\n0\r\n\r\n`],
  ['chunk size LF only', `${TE}4\nabcd\r\n0\r\n\r\n`],
  ['chunk data LF only', `${TE}1\r\nx\n0\r\n\r\n`],
  ['last chunk LF only', `${TE}1\r\nx\r\n0\n\r\n`],
  ['final CRLF as LF', `${TE}1\r\nx\r\n0\r\n\n`],
  ['chunk data too long', `${TE}1\r\nxy\r\n0\r\n\r\n`],
  ['empty line before chunk', `${TE}\r\n1\r\nx\r\n0\r\n\r\n`],
  ['NUL in chunk ext', `${TE}1;a\0b\r\nx\r\n0\r\n\r\n`],
  ['CTL in chunk ext', `${TE}1;a=\x01\r\nx\r\n0\r\n\r\n`],
  ['obs-text in chunk ext', `${TE}1;a=\xff\r\nx\r\n0\r\n\r\n`],
  ['tab in chunk ext', `${TE}1;a\tb\r\nx\r\n0\r\n\r\n`],
  ['chunk ext quoted', `${TE}4;a="b c"\r\nabcd\r\n0\r\n\r\n`],
  ['chunk ext escaped quote', `${TE}1;a="\\""\r\nx\r\n0\r\n\r\n`],
  ['chunk ext junk after quote', `${TE}1;a="x"y\r\nx\r\n0\r\n\r\n`],
  ['chunk ext two', `${TE}1;a=b;c\r\nx\r\n0\r\n\r\n`],
  ['chunk ext empty', `${TE}1;\r\nx\r\n0\r\n\r\n`],
  ['chunk ext empty name', `${TE}1;=b\r\nx\r\n0\r\n\r\n`],
  ['chunk ext space', `${TE}1; a\r\nx\r\n0\r\n\r\n`],
  ['trailers', `${TE}4;a=b\r\nabcd\r\n0\r\nX-T: 1\r\nX-U:  2 \r\n\r\n`],
  ['trailer space before colon', `${TE}1\r\nx\r\n0\r\nX-T : 1\r\n\r\n`],
  ['trailer NUL', `${TE}1\r\nx\r\n0\r\nX-T: a\0\r\n\r\n`],
  ['trailer folded', `${TE}1\r\nx\r\n0\r\nX-T: 1\r\n 2\r\n\r\n`],
  ['trailer CL', `${TE}1\r\nx\r\n0\r\nContent-Length: 5\r\n\r\n`],
  ['trailer TE', `${TE}1\r\nx\r\n0\r\nTransfer-Encoding: chunked\r\n\r\n`],
  ['smuggled request in chunked body', `${TE}1f\r\nGET /admin HTTP/1.1\r\nHost: a\r\n\r\n\r\n0\r\n\r\n`],
  ['pipelined after chunked', `${TE}4\r\nabcd\r\n0\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n`],
  ['pipelined three', `${G}\r\n${G}Content-Length: 1\r\n\r\nx${G}Connection: close\r\n\r\n`],
  ['data after Connection: close', `${G}Connection: close\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n`],
  ['CRLF after Connection: close', `${G}Connection: close\r\n\r\n\r\n\r\n`],
  ['POST 1.0 without length then data', 'POST / HTTP/1.0\r\nHost: a\r\n\r\nabc'],
  ['two Host', `${G}Host: b\r\n\r\n`],
  ['same Host twice', 'GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n'],
  ['two Host on 1.0', 'GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n'],
  ['missing Host', 'GET / HTTP/1.1\r\nX-A: b\r\n\r\n'],
  ['no Host on 1.0', 'GET / HTTP/1.0\r\n\r\n'],
  ['HTTP/2.0', 'GET / HTTP/2.0\r\nHost: a\r\n\r\n'],
  ['HTTP/3.0', 'GET / HTTP/3.0\r\nHost: a\r\n\r\n'],
  ['HTTP/1.2', 'POST /a HTTP/1.2\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc'],
  ['HTTP/1.9 keep-alive', 'GET /a HTTP/1.9\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['HTTP/0.9 line', 'GET /\r\n\r\n'],
  ['HTTP/0.9 version', 'GET / HTTP/0.9\r\nHost: a\r\n\r\n'],
  ['HTTP/1.10', 'GET / HTTP/1.10\r\nHost: a\r\n\r\n'],
  ['HTTP/01.1', 'GET / HTTP/01.1\r\nHost: a\r\n\r\n'],
  ['lower-case http', 'GET / http/1.1\r\nHost: a\r\n\r\n'],
  ['space after version', 'GET / HTTP/1.1 \r\nHost: a\r\n\r\n'],
  ['space before method', ' GET / HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['two spaces after method', 'GET  / HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['two spaces before version', 'GET /  HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['bare LF everywhere', 'GET / HTTP/1.1\nHost: a\n\n'],
  ['bare LF after field', 'GET / HTTP/1.1\r\nHost: a\n\r\n'],
  ['bare LF final line', 'GET / HTTP/1.1\r\nHost: a\r\n\n'],
  ['bare LF request line', 'GET / HTTP/1.1\nHost: a\r\n\r\n'],
  ['bare CR in value', `${G}X-A: b\rc\r\n\r\n`],
  ['bare CR request line', 'GET / HTTP/1.1\rHost: a\r\n\r\n'],
  ['CR CR LF', 'GET / HTTP/1.1\r\nHost: a\r\r\n\r\n'],
  ['final CR CR LF', 'GET / HTTP/1.1\r\nHost: a\r\n\r\r\n'],
  ['leading CRLF', '\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['leading LF', '\nGET / HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['NUL in value', `${G}X-A: b\0c\r\n\r\n`],
  ['CTL in value', `${G}X: a\x01b\r\n\r\n`],
  ['DEL in value', `${G}X: a\x7fb\r\n\r\n`],
  ['obs-text in value', `${G}X: a\xffb\xe9\r\n\r\n`],
  ['tabs in value', `${G}X: \t a\tb\t \r\n\r\n`],
  ['empty value', `${G}X:\r\n\r\n`],
  ['no space after colon', `${G}X-A:b\r\n\r\n`],
  ['empty name', `${G}: x\r\n\r\n`],
  ['obs-text in name', `${G}X\xe9: x\r\n\r\n`],
  ['space in name', `${G}X A: b\r\n\r\n`],
  ['indented first field', 'GET / HTTP/1.1\r\n Host: a\r\n\r\n'],
  ['obs-fold', `${G}X: a\r\n\tb\r\n\r\n`],
  ['invalid method', 'G@T / HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['unknown method', 'FOO / HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['lower-case method', 'get / HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['PRI preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'],
  ['M-SEARCH', 'M-SEARCH * HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['tab in target', 'GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['FF in target', 'GET /a\fb HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['obs-text in target', 'GET /a\xe9b HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['DEL in target', 'GET /a\x7fb HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['fragment', 'GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['odd target chars', 'GET /a%zz"<>\\^`{|} HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['GET *', 'GET * HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['OPTIONS *', 'OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['authority-form on GET', 'GET a.com:80 HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['relative target', 'GET x HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['query-only target', 'GET ?x HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['absolute-form', 'GET http://a.com/x HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['absolute-form no path', 'GET http://a.com HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['absolute-form query only', 'GET http://a.com?q=1 HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['absolute-form upper scheme', 'GET HTTP://a.com/x?y#z HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['absolute-form ftp', 'GET ftp://a.com/x HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['absolute-form userinfo', 'GET http://u@a.com/x HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['absolute-form IPv6', 'GET http://[::1]:80/x HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['absolute-form empty authority', 'GET http:///p HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['absolute-form bad port', 'GET http://x:abc/ HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['absolute-form 1.0 no Host', 'GET http://a.example/p HTTP/1.0\r\n\r\n'],
  ['scheme with digit', 'GET h2c://a/ HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['double slash origin', 'GET //x/y HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['CONNECT', 'CONNECT a.com:443 HTTP/1.1\r\nHost: a.com:443\r\n\r\n'],
  ['CONNECT no port', 'CONNECT a.com HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['CONNECT IPv6', 'CONNECT [::1]:443 HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['CONNECT origin-form', 'CONNECT /x HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['CONNECT absolute-form', 'CONNECT http://a.com/ HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['CONNECT *', 'CONNECT * HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['CONNECT with body', 'CONNECT a.com:443 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc'],
  ['websocket upgrade', `${G}Upgrade: websocket\r\nConnection: Upgrade\r\n\r\nxyz`],
  ['upgrade with body', `${G}Upgrade: websocket\r\nConnection: Upgrade\r\nContent-Length: 2\r\n\r\nab`],
  ['Upgrade without Connection', `${G}Upgrade: websocket\r\n\r\n`],
  [
    'h2c offer',
    `${G}Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n`,
  ],
  ['Connection: upgradex', `${G}Upgrade: h2c\r\nConnection: upgradex\r\n\r\n`],
  ['Expect 100-continue', `${P}Expect: 100-continue\r\nContent-Length: 2\r\n\r\nab`],
  ['Expect other', `${G}Expect: foo\r\n\r\n`],
  ['Expect list', `${G}Expect: 100-continue, foo\r\n\r\n`],
  ['Expect mixed case', `${G}Expect: 100-Continue\r\n\r\n`],
  ['Expect twice', `${G}Expect: foo\r\nExpect: 100-continue\r\n\r\n`],
  ['Expect on 1.0', 'GET / HTTP/1.0\r\nExpect: foo\r\n\r\n'],
  ['Connection close, keep-alive', `${G}Connection: close, keep-alive\r\n\r\n`],
  ['Connection closex', `${G}Connection: closex\r\n\r\n`],
  ['Connection x,close', `${G}Connection: x,close\r\n\r\n`],
  ['Connection twice', `${G}Connection: x\r\nConnection: close\r\n\r\n`],
  ['Connection CLOSE', `${G}Connection:  CLOSE \r\n\r\n`],
  ['1.0 keep-alive', 'GET / HTTP/1.0\r\nConnection: Keep-Alive, x\r\n\r\nGET / HTTP/1.0\r\n\r\n'],
  ['GET with body', `${G}Content-Length: 2\r\n\r\nab`],
  ['head at the size limit', `${G}X-Big: ${'a'.repeat(16_300)}\r\n\r\n`],
  ['head over node limit', `${G}X-Big: ${'a'.repeat(16_380)}\r\n\r\n`],
  ['big trailers', `${TE}0\r\nX-T: ${'b'.repeat(16_000)}\r\n\r\n`],
  ['oversized trailers', `${TE}0\r\nX-T: ${'b'.repeat(16_400)}\r\n\r\n`],
  ['many fields', `${G}${'a:\r\n'.repeat(300)}\r\n`],
  ['incomplete head', 'GET / HTTP/1.1\r\nHost: a\r\n'],
  ['incomplete body', `${P}Content-Length: 5\r\n\r\nab`],
  ['incomplete chunked', `${TE}5\r\nab`],
];

/** mulberry32: a small seeded PRNG, so a failing case can be regenerated from its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

const METHODS = [
  'GET',
  'GET',
  'POST',
  'POST',
  'PUT',
  'HEAD',
  'OPTIONS',
  'DELETE',
  'PATCH',
  'CONNECT',
  'FOO',
  'get',
  'PRI',
];
const CLEAN_METHODS = [
  'GET',
  'GET',
  'GET',
  'POST',
  'POST',
  'PUT',
  'HEAD',
  'OPTIONS',
  'DELETE',
  'PATCH',
  'CONNECT',
];
const TARGETS = [
  '/',
  '/a/b?c=d',
  '/%41',
  '*',
  'http://a.example/x',
  'HTTP://a:8080',
  'a.example:443',
  '/a#b',
  '//x',
  'x',
];
const VERSIONS = ['1.1', '1.1', '1.1', '1.0', '1.0', '1.2', '2.0', '0.9', '3.1', '1.x'];
const CONNECTIONS = [
  'close',
  'keep-alive',
  'Upgrade',
  'upgrade, close',
  'Keep-Alive, Upgrade',
  'x, close',
  'closed',
];
const TES = [
  'chunked',
  'Chunked',
  'gzip, chunked',
  'chunked, gzip',
  'identity',
  ' chunked',
  'chunked ',
  ',chunked',
  'x chunked',
];
const CLS = ['0', '1', '3', '03', ' 3', '+3', '-1', '3,3', '', 'abc', '18446744073709551616', '3\t', '\t3'];
const NAMES = ['X-A', 'Accept', 'user-agent', 'X_Y', 'Cookie', 'X-Forwarded-For', 'Via', 'TE', 'Trailer'];
const VALUES = ['v', '', 'a b', '\tx\t', 'é', '"q"', 'a,b', '100-continue', 'websocket', 'h2c'];
// Bytes a mutation inserts or writes over: the ones every rule above turns on.
const MUTATION_BYTES = [...'\r\n\0 \t:;,=\x7f\xff0aA/"\x0b'];

function field(r: Rand, framing: { te: boolean; cl: number }, clean: boolean): string {
  const k = r();
  if (k < 0.12) return `Host: ${pick(r, ['a', 'a.example:80', '', 'b'])}`;
  if (k < 0.25) {
    const v = pick(r, clean ? ['0', '1', '3', '03', ' 3'] : CLS);
    if (/^[ \t]?0*[0-9]\t?$/.test(v)) framing.cl = Number(v);
    return `${pick(r, ['Content-Length', 'content-length', 'Content-length'])}: ${v}`;
  }
  if (k < 0.38) {
    framing.te = true;
    return `${pick(r, ['Transfer-Encoding', 'transfer-encoding'])}: ${pick(r, clean ? TES.slice(0, 3) : TES)}`;
  }
  if (k < 0.48) return `Connection: ${pick(r, CONNECTIONS)}`;
  if (k < 0.55) return `Upgrade: ${pick(r, ['websocket', 'h2c', 'foo/1'])}`;
  if (k < 0.6) return `Expect: ${pick(r, ['100-continue', 'foo'])}`;
  return `${pick(r, NAMES)}: ${pick(r, VALUES)}`;
}

function chunkedBody(r: Rand): string {
  let out = '';
  const n = Math.floor(r() * 3);
  for (let i = 0; i < n; i++) {
    const data = 'x'.repeat(1 + Math.floor(r() * 20));
    const ext = r() < 0.2 ? pick(r, [';a', ';a=b', ';a="c d"', ';=x', '; a']) : '';
    out += `${data.length.toString(16)}${ext}\r\n${data}\r\n`;
  }
  out += '0\r\n';
  if (r() < 0.3) out += `${pick(r, ['X-T: 1', 'X-T:', 'Content-Length: 1', 'x t: 1'])}\r\n`;
  return `${out}\r\n`;
}

// Half the cases draw the request line from valid parts only, so both sides accept often enough
// for the comparison of what they parsed to carry weight.
function request(r: Rand, first: boolean, clean: boolean): string {
  const method = pick(r, clean ? CLEAN_METHODS : METHODS);
  let target = pick(r, TARGETS);
  if (clean && (target === 'x' || target === 'a.example:443' || target === '*')) target = '/';
  if (method === 'CONNECT' && clean) target = 'a.example:443';
  const sp = !clean && r() < 0.1 ? '  ' : ' ';
  let version = pick(r, clean ? ['1.1', '1.1', '1.0'] : VERSIONS);
  if (!first && version === '1.2') version = '1.1'; // node:http rewrites only a connection's first line
  if (method === 'OPTIONS' && r() < 0.3) target = '*';
  let text = `${method}${sp}${target} HTTP/${version}\r\n`;
  const framing = { te: false, cl: -1 };
  const fields = Math.floor(r() * 7);
  if (r() < 0.85) text += 'Host: a\r\n';
  for (let i = 0; i < fields; i++) text += `${field(r, framing, clean)}\r\n`;
  text += '\r\n';
  if (framing.te) text += chunkedBody(r);
  else if (framing.cl > 0) text += 'y'.repeat(framing.cl);
  return text;
}

// The index of a random occurrence of `needle` in `s`, or -1.
function someIndex(r: Rand, s: string, needle: string): number {
  const all: number[] = [];
  for (let i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + 1)) all.push(i);
  return all.length === 0 ? -1 : pick(r, all);
}

// Byte edits anywhere, plus edits aimed at line ends and colons, where smuggling happens.
function mutate(r: Rand, text: string): string {
  let s = text;
  const n = 1 + Math.floor(r() * 3);
  for (let i = 0; i < n; i++) {
    const at = Math.floor(r() * (s.length + 1));
    const k = r();
    const b = pick(r, MUTATION_BYTES);
    if (k < 0.3) s = s.slice(0, at) + b + s.slice(at);
    else if (k < 0.5) s = s.slice(0, at) + s.slice(at + 1);
    else if (k < 0.7) s = s.slice(0, at) + b + s.slice(at + 1);
    else if (k < 0.85) {
      const crlf = someIndex(r, s, '\r\n');
      if (crlf >= 0)
        s = s.slice(0, crlf) + pick(r, ['\n', '\r', '\r\r\n', '\n\r', '\r\n ', '\r\n\t']) + s.slice(crlf + 2);
    } else {
      const colon = someIndex(r, s, ':');
      if (colon >= 0) s = s.slice(0, colon) + pick(r, [' :', '\t:', ':\r\n ', '']) + s.slice(colon + 1);
    }
  }
  return s;
}

/** The generated case `index` of the run seeded with `seed`: 1–3 requests, 40 % of them mutated. */
export function generate(seed: number, index: number): string {
  const r = rng((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  const clean = r() < 0.5;
  let text = request(r, true, clean);
  const more = r() < 0.25 ? 1 + Math.floor(r() * 2) : 0;
  for (let i = 0; i < more; i++) text += request(r, false, clean);
  return r() < 0.4 ? mutate(r, text) : text;
}
