/**
 * A FIFO of slot numbers in a growable `Int32Array` ring: S3-FIFO's small and main queues.
 * Pingora uses lock-free `SegQueue`s; one event loop needs no locks, and a ring allocates only
 * when it grows. It grows by half when full, so the small queue (about a tenth of the items)
 * stays small instead of being sized for the whole cache.
 */
export class Ring {
  buf: Int32Array;
  head = 0;
  length = 0;

  constructor(capacity = 16) {
    this.buf = new Int32Array(Math.max(capacity, 16));
  }

  /** Append at the tail. */
  push(slot: number): void {
    const size = this.buf.length;
    if (this.length === size) this.grow(size + (size >> 1));
    let i = this.head + this.length;
    if (i >= this.buf.length) i -= this.buf.length;
    this.buf[i] = slot;
    this.length++;
  }

  /** Remove and return the head; the caller checks `length` first. */
  shift(): number {
    const slot = this.buf[this.head]!;
    if (++this.head === this.buf.length) this.head = 0;
    this.length--;
    return slot;
  }

  /** Keep only the slots for which `keep` is true, in order; calls `drop` for the others. */
  filter(keep: (slot: number) => boolean, drop: (slot: number) => void): void {
    const next = new Int32Array(Math.max(this.length, 16));
    let kept = 0;
    for (let i = 0, p = this.head; i < this.length; i++) {
      const slot = this.buf[p]!;
      if (keep(slot)) next[kept++] = slot;
      else drop(slot);
      if (++p === this.buf.length) p = 0;
    }
    this.buf = next;
    this.head = 0;
    this.length = kept;
  }

  private grow(size: number): void {
    const next = new Int32Array(size);
    const tail = this.buf.length - this.head;
    if (tail >= this.length) {
      next.set(this.buf.subarray(this.head, this.head + this.length));
    } else {
      next.set(this.buf.subarray(this.head));
      next.set(this.buf.subarray(0, this.length - tail), tail);
    }
    this.buf = next;
    this.head = 0;
  }
}
