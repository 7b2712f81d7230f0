/**
 * Raw HTTP/2 frames for tests that must send what a well-behaved client never would (malformed
 * requests). HPACK is written as literal fields without indexing and without Huffman coding, the
 * simplest encoding every decoder accepts.
 */
import { once } from 'node:events';
import net from 'node:net';

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
export const DATA = 0x0;
export const HEADERS = 0x1;
export const RST_STREAM = 0x3;
export const SETTINGS = 0x4;
export const GOAWAY = 0x7;
export const END_STREAM = 0x1;
export const END_HEADERS = 0x4;

/** One frame: 9-byte header then the payload. */
export function frame(
  type: number,
  flags: number,
  streamId: number,
  payload: Buffer = Buffer.alloc(0),
): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([h, payload]);
}

function hpackInt(value: number, prefixBits: number, first: number): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [first | value];
  const out = [first | max];
  let v = value - max;
  while (v >= 128) {
    out.push((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out.push(v);
  return out;
}

/** A header block of literal fields (names as given: tests may send what HTTP/2 forbids). */
export function headerBlock(fields: Array<[string, string]>): Buffer {
  const bytes: number[] = [];
  for (const [name, value] of fields) {
    bytes.push(0x00);
    const n = Buffer.from(name, 'latin1');
    const v = Buffer.from(value, 'latin1');
    bytes.push(...hpackInt(n.length, 7, 0), ...n, ...hpackInt(v.length, 7, 0), ...v);
  }
  return Buffer.from(bytes);
}

/** A parsed frame. */
export interface Frame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

/** Splits a byte stream into frames (a trailing partial frame is ignored). */
export function parseFrames(buf: Buffer): Frame[] {
  const out: Frame[] = [];
  let off = 0;
  while (off + 9 <= buf.length) {
    const len = buf.readUIntBE(off, 3);
    if (off + 9 + len > buf.length) break;
    out.push({
      type: buf[off + 3]!,
      flags: buf[off + 4]!,
      streamId: buf.readUInt32BE(off + 5) & 0x7fffffff,
      payload: buf.subarray(off + 9, off + 9 + len),
    });
    off += 9 + len;
  }
  return out;
}

/** A raw h2c connection: sends the preface and SETTINGS, then collects what the server sends. */
export class RawH2 {
  readonly socket: net.Socket;
  private received = Buffer.alloc(0);
  private waiters: Array<() => void> = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (c: Buffer) => {
      this.received = Buffer.concat([this.received, c]);
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async open(port: number): Promise<RawH2> {
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0)]));
    return new RawH2(socket);
  }

  send(...frames: Buffer[]): void {
    this.socket.write(Buffer.concat(frames));
  }

  frames(): Frame[] {
    return parseFrames(this.received);
  }

  /** Waits (event-driven, bounded by the socket closing) until `pred` holds for the frames received. */
  async until(pred: (frames: Frame[]) => boolean): Promise<Frame[]> {
    for (let i = 0; i < 1000; i++) {
      const f = this.frames();
      if (pred(f) || this.socket.destroyed) return f;
      await new Promise<void>((r) => this.waiters.push(r));
    }
    return this.frames();
  }

  close(): void {
    this.socket.destroy();
  }
}

/** The error code of a RST_STREAM frame. */
export function rstCode(f: Frame): number {
  return f.payload.readUInt32BE(0);
}
