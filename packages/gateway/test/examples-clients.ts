/**
 * TLS clients for the example tests: the certificate and protocol a handshake gives, one HTTP/2
 * request with node:http2, one HTTPS/1.1 request with node:https, and curl (run asynchronously:
 * the gateway under test lives in this process, so a synchronous child would stall it).
 */
import { execFile } from 'node:child_process';
import http2 from 'node:http2';
import https from 'node:https';
import tls from 'node:tls';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/**
 * What a handshake with `servername` presents: the certificate's CN and the protocol chosen. The
 * chain must verify against `ca`; the name is the caller's to check (a name the SNI map does not
 * list gets the default certificate, which does not carry it).
 */
export function handshake(
  port: number,
  servername: string,
  ca: string[],
  alpn: string[] = ['h2', 'http/1.1'],
): Promise<{ cn: string; alpn: string | false }> {
  return new Promise((resolve, reject) => {
    const s = tls.connect(
      { host: '127.0.0.1', port, servername, ca, ALPNProtocols: alpn, checkServerIdentity: () => undefined },
      () => {
        const cn = String(s.getPeerCertificate().subject?.CN ?? '');
        const chosen = s.alpnProtocol ?? false;
        s.end();
        resolve({ cn, alpn: chosen });
      },
    );
    s.on('error', reject);
  });
}

/** One HTTP/2 request over TLS; resolves with the status, headers and body. */
export function h2Get(
  port: number,
  servername: string,
  ca: string[],
  path: string,
): Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const client = http2.connect(`https://127.0.0.1:${port}`, { ca, servername });
    client.on('error', reject);
    const req = client.request({ ':path': path, ':authority': servername });
    let headers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on('response', (h) => {
      headers = h;
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      client.close();
      resolve({ status: Number(headers[':status']), headers, body: Buffer.concat(chunks).toString() });
    });
    req.on('error', reject);
    req.end();
  });
}

/** One HTTPS/1.1 request to 127.0.0.1 with `host` as server name and Host header. */
export function httpsGet(
  port: number,
  host: string,
  ca: string[],
  path: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port, path, servername: host, ca, headers: { host }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Runs curl with `args` (silent, failing on transport errors); resolves with its stdout. */
export async function curl(args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('curl', ['-sS', '--max-time', '30', ...args]);
  return stdout;
}
