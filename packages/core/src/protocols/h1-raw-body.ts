/**
 * The request body of one raw-engine HTTP/1.x request: chunks the parser hands over (slices of
 * the socket's reads) wait here until the app pulls them (`read`) or they are pushed to a sink
 * (`pump`). Whenever chunks wait unread, or the sink is paused, the connection stops reading the
 * socket ({@link RawBody.blocked}), so a slow consumer holds back the client instead of memory.
 */
import type { RequestBodySink } from './server-session.js';

/** What the body tells its connection. */
export interface RawBodyOwner {
  /** A chunk was taken or the sink resumed: reading the socket may go on. */
  bodyWanted(): void;
}

interface Waiter {
  resolve(chunk: Buffer | undefined): void;
  reject(e: Error): void;
}

/** @internal One request's body queue. */
export class RawBody {
  private queue: Buffer[] | undefined = undefined;
  private ended = false;
  private trailers: string[] | undefined = undefined;
  private error: Error | undefined = undefined;
  private waiter: Waiter | undefined = undefined;
  private sink: RequestBodySink | undefined = undefined;
  private paused = false;
  /** Chunks are dropped as they come (the response is done; the rest is drained). */
  discarding = false;
  /** Bytes handed to the consumer. */
  consumed = 0;

  constructor(private readonly owner: RawBodyOwner) {}

  /** The body ended or failed. */
  get done(): boolean {
    return this.ended || this.error !== undefined;
  }

  /** The connection must not read more until the consumer takes what is here. */
  get blocked(): boolean {
    if (this.discarding) return false;
    return this.queue !== undefined && this.queue.length > 0 ? true : this.sink !== undefined && this.paused;
  }

  /** From the parser: a body chunk. */
  push(chunk: Buffer): void {
    if (this.discarding) return;
    if (this.queue === undefined || this.queue.length === 0) {
      const sink = this.sink;
      if (sink !== undefined && !this.paused) {
        this.consumed += chunk.length;
        sink.onRequestBody(chunk);
        return;
      }
      const w = this.waiter;
      if (w !== undefined) {
        this.waiter = undefined;
        this.consumed += chunk.length;
        w.resolve(chunk);
        return;
      }
    }
    if (this.queue === undefined) this.queue = [chunk];
    else this.queue.push(chunk);
  }

  /** From the parser: the body is complete. */
  end(trailers: string[] | undefined): void {
    this.ended = true;
    this.trailers = trailers;
    if (this.queue === undefined || this.queue.length === 0) this.settle();
  }

  /** The body cannot complete (client gone, read timeout, malformed chunk). */
  fail(e: Error): void {
    if (this.done) return;
    this.error = e;
    this.queue = undefined;
    this.settle();
  }

  /** Next chunk, `undefined` at the end. */
  read(): Promise<Buffer | undefined> {
    const q = this.queue;
    if (q !== undefined && q.length > 0) {
      const c = q.shift()!;
      this.consumed += c.length;
      if (q.length === 0) this.owner.bodyWanted();
      return Promise.resolve(c);
    }
    if (this.error !== undefined) return Promise.reject(this.error);
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.owner.bodyWanted();
    });
  }

  /** Push mode from now on. */
  pump(sink: RequestBodySink): void {
    this.sink = sink;
    this.flush();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.flush();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  // Queued chunks to the sink, then its end when the body is complete.
  private flush(): void {
    const sink = this.sink;
    if (sink === undefined) return;
    const q = this.queue;
    while (q !== undefined && q.length > 0 && !this.paused && this.sink === sink) {
      const c = q.shift()!;
      this.consumed += c.length;
      sink.onRequestBody(c);
    }
    if (this.paused) return;
    if (q === undefined || q.length === 0) {
      if (this.done) this.settle();
      else this.owner.bodyWanted();
    }
  }

  private settle(): void {
    const e = this.error;
    const w = this.waiter;
    this.waiter = undefined;
    if (w !== undefined) {
      if (e !== undefined) w.reject(e);
      else w.resolve(undefined);
    }
    const sink = this.sink;
    if (sink !== undefined && (!this.paused || e !== undefined)) {
      this.sink = undefined;
      if (e !== undefined) sink.onRequestBodyError(e);
      else sink.onRequestBodyEnd(this.trailers);
    }
  }
}
