/**
 * A sliding window over a byte stream that knows the absolute offset of every byte:
 * the gzip member splitter reads ahead in it and discards what it has decoded, so memory
 * stays bounded by the look-ahead whatever the file size.
 */
export class ByteWindow {
  private buf: Buffer = Buffer.alloc(0);
  private base: number;
  private done = false;

  constructor(
    private readonly chunks: AsyncIterator<Buffer>,
    start = 0,
  ) {
    this.base = start;
  }

  /** Absolute offset of the first byte still held. */
  get start(): number {
    return this.base;
  }

  /** Absolute offset just past the last byte read so far. */
  get end(): number {
    return this.base + this.buf.length;
  }

  /** True when the source has no more bytes (everything up to `end` is all there is). */
  get eof(): boolean {
    return this.done;
  }

  /**
   * Reads until at least `minAhead` bytes from `pos` are held, or the source ends.
   * Nothing is discarded here: callers say what they no longer need with `discard`.
   */
  async fill(pos: number, minAhead: number): Promise<void> {
    if (pos < this.base || pos > this.end) throw new RangeError(`fill at ${pos} outside window ${this.base}..${this.end}`);
    if (this.end - pos >= minAhead || this.done) return;
    const parts: Buffer[] = [this.buf];
    let have = this.end - pos;
    while (have < minAhead) {
      const r = await this.chunks.next();
      if (r.done) {
        this.done = true;
        break;
      }
      parts.push(r.value);
      have += r.value.length;
    }
    this.buf = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  /** The bytes held from absolute offset `pos` to `end` (no copy). */
  from(pos: number): Buffer {
    if (pos < this.base) throw new RangeError(`offset ${pos} was already discarded (window starts at ${this.base})`);
    return this.buf.subarray(pos - this.base);
  }

  /**
   * Stops reading: the source's stream is closed (its file descriptor or connection released).
   * For a reader that stops before the end: a range (pages.ts PageRange), a sample that has its pages.
   */
  async close(): Promise<void> {
    this.done = true;
    this.buf = Buffer.alloc(0);
    try {
      await this.chunks.return?.();
    } catch {
      /* the source failed already: nothing to close */
    }
  }

  /** Drops bytes before `pos`. */
  discard(pos: number): void {
    if (pos <= this.base) return;
    const n = Math.min(pos - this.base, this.buf.length);
    this.buf = this.buf.subarray(n);
    this.base += n;
  }
}
