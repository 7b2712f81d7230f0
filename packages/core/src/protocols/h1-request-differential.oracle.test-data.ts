/**
 * The reference side of the differential test: node:http's own server (llhttp, strict — never
 * `insecureHTTPParser`) with the settings `HttpServer` gives it, fed raw bytes over loopback
 * sockets. For each case it records what llhttp parsed (method, url, version, raw header list,
 * body, raw trailers, keep-alive, Expect handling, upgrade) or that it refused the bytes.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';

/** One request as llhttp saw it. */
export interface OracleMessage {
  method: string;
  url: string;
  version: string;
  rawHeaders: string[];
  /** 'request' | 'continue' (Expect: 100-continue) | 'expectation' (other Expect) | 'upgrade' | 'connect' */
  event: string;
  keepAlive: boolean;
  /** latin1 body; undefined when llhttp did not read one (upgrade/connect) or it never completed. */
  body: string | undefined;
  rawTrailers: string[];
  complete: boolean;
}

/** What llhttp made of one case. */
export interface OracleResult {
  messages: OracleMessage[];
  /** llhttp's error code when it refused the bytes (at any point), else undefined. */
  error: string | undefined;
}

const CASE_ID = Symbol('caseResult');
type TaggedSocket = Socket & { [CASE_ID]?: OracleResult };

/** A node:http server on 127.0.0.1:0 that records, per connection, what it parsed. */
export class LlhttpOracle {
  private server: http.Server | undefined;
  private port = 0;

  constructor(private readonly maxHeaderSize: number) {}

  async start(): Promise<void> {
    const server = http.createServer({
      maxHeaderSize: this.maxHeaderSize,
      insecureHTTPParser: false,
      joinDuplicateHeaders: false,
      requireHostHeader: false,
      keepAliveTimeout: 60_000,
      headersTimeout: 60_000,
      requestTimeout: 0,
    });
    server.on('connection', (s: TaggedSocket) => {
      s[CASE_ID] = { messages: [], error: undefined };
      this.byClientPort.set(s.remotePort!, s);
      s.on('error', () => {});
    });
    server.on('request', (req, res) => this.record(req, res, 'request'));
    server.on('checkContinue', (req, res) => this.record(req, res, 'continue'));
    server.on('checkExpectation', (req, res) => this.record(req, res, 'expectation'));
    server.on('upgrade', (req: IncomingMessage, socket: Socket) => this.recordTunnel(req, socket, 'upgrade'));
    server.on('connect', (req: IncomingMessage, socket: Socket) => this.recordTunnel(req, socket, 'connect'));
    server.on('clientError', (err: NodeJS.ErrnoException, socket: TaggedSocket) => {
      const r = socket[CASE_ID];
      if (r !== undefined && r.error === undefined) r.error = err.code ?? err.message;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (s === undefined) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** Sends `bytes` on a new connection, half-closes, and resolves once the server closed it. */
  run(bytes: Buffer): Promise<OracleResult> {
    return new Promise((resolve) => {
      const c = net.connect(this.port, '127.0.0.1');
      let port = 0;
      c.on('error', () => {});
      c.on('data', () => {});
      c.once('connect', () => {
        port = c.localPort!;
        c.end(bytes);
      });
      // The server closes only once it has answered or refused everything: its record is final.
      c.once('close', () => {
        const serverSide = this.byClientPort.get(port);
        this.byClientPort.delete(port);
        resolve(serverSide?.[CASE_ID] ?? { messages: [], error: 'NO_CONNECTION' });
      });
    });
  }

  private readonly byClientPort = new Map<number, TaggedSocket>();

  private tag(socket: TaggedSocket): OracleResult {
    let r = socket[CASE_ID];
    if (r === undefined) socket[CASE_ID] = r = { messages: [], error: undefined };
    return r;
  }

  private head(req: IncomingMessage, event: string, keepAlive: boolean): OracleMessage {
    return {
      method: req.method!,
      url: req.url!,
      version: req.httpVersion,
      rawHeaders: req.rawHeaders,
      event,
      keepAlive,
      body: undefined,
      rawTrailers: [],
      complete: false,
    };
  }

  private record(req: IncomingMessage, res: ServerResponse, event: string): void {
    const r = this.tag(req.socket as TaggedSocket);
    const m = this.head(req, event, res.shouldKeepAlive);
    r.messages.push(m);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => {});
    req.on('end', () => {
      m.body = Buffer.concat(chunks).toString('latin1');
      m.rawTrailers = req.rawTrailers;
      m.complete = true;
      res.end();
    });
  }

  private recordTunnel(req: IncomingMessage, socket: Socket, event: string): void {
    const r = this.tag(socket as TaggedSocket);
    const m = this.head(req, event, false);
    m.complete = true;
    r.messages.push(m);
    socket.on('error', () => {});
    socket.destroy();
  }
}
