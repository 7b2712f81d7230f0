/**
 * The yes/no state of one raw-engine HTTP/1.x connection, packed in a single small integer. Every
 * idle keep-alive connection keeps its state object for as long as it stays open, so nine flags
 * in one field instead of nine fields is 64 bytes less a connection (h1-raw-connection.ts).
 */

const REQ_DONE = 1;
const RESP_DONE = 2;
const NEXT_KEEP_ALIVE = 4;
const HEAD_KEEP_ALIVE = 8;
const TAKEN_OVER = 16;
const CLOSING = 32;
const PUMPING = 64;
const CLIENT_ENDED = 128;
const REFUSE_EXPECTATION = 256;

/** @internal The flags of `H1RawConnection`, as boolean accessors. */
export abstract class H1RawConnectionFlags {
  private flags = 0;

  /** The current request was received completely. */
  protected get reqDone(): boolean {
    return (this.flags & REQ_DONE) !== 0;
  }
  protected set reqDone(v: boolean) {
    this.flip(REQ_DONE, v);
  }

  /** The current response was finished. */
  protected get respDone(): boolean {
    return (this.flags & RESP_DONE) !== 0;
  }
  protected set respDone(v: boolean) {
    this.flip(RESP_DONE, v);
  }

  /** The finished response left the connection open for another request. */
  protected get nextKeepAlive(): boolean {
    return (this.flags & NEXT_KEEP_ALIVE) !== 0;
  }
  protected set nextKeepAlive(v: boolean) {
    this.flip(NEXT_KEEP_ALIVE, v);
  }

  /** The current request's own framing allows another request after it. */
  protected get headKeepAlive(): boolean {
    return (this.flags & HEAD_KEEP_ALIVE) !== 0;
  }
  protected set headKeepAlive(v: boolean) {
    this.flip(HEAD_KEEP_ALIVE, v);
  }

  /** An upgrade or CONNECT took the socket over. */
  protected get takenOver(): boolean {
    return (this.flags & TAKEN_OVER) !== 0;
  }
  protected set takenOver(v: boolean) {
    this.flip(TAKEN_OVER, v);
  }

  /** Nothing more is parsed: the connection is on its way to closing. */
  protected get closing(): boolean {
    return (this.flags & CLOSING) !== 0;
  }
  protected set closing(v: boolean) {
    this.flip(CLOSING, v);
  }

  /** The parse loop is running (re-entry guard). */
  protected get pumping(): boolean {
    return (this.flags & PUMPING) !== 0;
  }
  protected set pumping(v: boolean) {
    this.flip(PUMPING, v);
  }

  /** The client half-closed its side. */
  protected get clientEnded(): boolean {
    return (this.flags & CLIENT_ENDED) !== 0;
  }
  protected set clientEnded(v: boolean) {
    this.flip(CLIENT_ENDED, v);
  }

  /** The request just parsed carries an expectation we cannot meet (417). */
  protected get refuseExpectation(): boolean {
    return (this.flags & REFUSE_EXPECTATION) !== 0;
  }
  protected set refuseExpectation(v: boolean) {
    this.flip(REFUSE_EXPECTATION, v);
  }

  private flip(bit: number, on: boolean): void {
    this.flags = on ? this.flags | bit : this.flags & ~bit;
  }
}
