/**
 * A bounded byte buffer that keeps only the LAST `limit` bytes written to it, so a chatty job cannot
 * eat the worker's memory: at most `limit` plus one chunk is ever held.
 */
export class OutputRing {
  readonly #limit: number;
  #chunks: Buffer[] = [];
  #size = 0;
  #dropped = 0;

  constructor(limit: number) {
    this.#limit = Math.max(0, Math.floor(limit));
  }

  /** Appends a chunk, dropping whole old chunks that fall entirely outside the window. */
  write(chunk: Buffer | string): void {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (buf.length === 0) return;
    this.#chunks.push(buf);
    this.#size += buf.length;
    while (this.#chunks.length > 1 && this.#size - this.#chunks[0]!.length >= this.#limit) {
      const old = this.#chunks.shift()!;
      this.#size -= old.length;
      this.#dropped += old.length;
    }
  }

  /** Bytes written but no longer kept. */
  get droppedBytes(): number {
    return this.#dropped + Math.max(0, this.#size - this.#limit);
  }

  /** The kept bytes as UTF-8. A character cut in half at the window's start is dropped, not mangled. */
  toString(): string {
    let buf = Buffer.concat(this.#chunks, this.#size);
    if (buf.length > this.#limit) buf = buf.subarray(buf.length - this.#limit);
    let start = 0;
    // Continuation bytes (10xxxxxx) at the start belong to a character whose head was dropped.
    if (this.droppedBytes > 0) {
      while (start < buf.length && start < 3 && (buf[start]! & 0xc0) === 0x80) start++;
    }
    return buf.subarray(start).toString('utf8');
  }
}
