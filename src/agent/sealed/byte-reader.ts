// Exact-length reads over an async iterable of byte pieces (a Node Readable): the framing layer under
// unsealing (docs/sealed-format.md §5), holding at most one requested span plus one source piece.
import { SealedFileError } from './sealed-error.js';

export class ByteReader {
  private readonly pieces: Buffer[] = [];
  private head = 0;
  private buffered = 0;
  private ended = false;
  /** Bytes handed out so far (the offset of the next read in the input). */
  consumed = 0;

  constructor(private readonly source: AsyncIterator<unknown>) {}

  static from(input: AsyncIterable<unknown>): ByteReader {
    return new ByteReader(input[Symbol.asyncIterator]());
  }

  private async pull(): Promise<boolean> {
    if (this.ended) return false;
    const next = await this.source.next();
    if (next.done) {
      this.ended = true;
      return false;
    }
    const value = next.value;
    if (!(value instanceof Uint8Array)) {
      throw new SealedFileError('ERR_SEALED_INPUT_UNREADABLE', 'sealed input must be a byte stream');
    }
    if (value.length > 0) {
      this.pieces.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
      this.buffered += value.length;
    }
    return true;
  }

  /**
   * Reads `n` bytes as slices of the source's own pieces (no copy); the total is less than `n` only
   * when the input ended first. The slices stay valid as long as the source does not reuse its buffers
   * (Node streams never do).
   */
  async readParts(n: number): Promise<Buffer[]> {
    while (this.buffered < n && (await this.pull()));
    const parts: Buffer[] = [];
    let left = Math.min(n, this.buffered);
    this.consumed += left;
    while (left > 0) {
      const piece = this.pieces[0] as Buffer;
      const count = Math.min(piece.length - this.head, left);
      parts.push(piece.subarray(this.head, this.head + count));
      this.advance(count);
      left -= count;
    }
    return parts;
  }

  /** Reads `n` bytes into one buffer; returns fewer only when the input ended first. */
  async read(n: number): Promise<Buffer> {
    while (this.buffered < n && (await this.pull()));
    const take = Math.min(n, this.buffered);
    const first = this.pieces[0];
    let out: Buffer;
    if (first !== undefined && first.length - this.head >= take) {
      out = first.subarray(this.head, this.head + take);
      this.advance(take);
    } else {
      out = Buffer.allocUnsafe(take);
      let filled = 0;
      while (filled < take) {
        const piece = this.pieces[0] as Buffer;
        const count = Math.min(piece.length - this.head, take - filled);
        piece.copy(out, filled, this.head, this.head + count);
        filled += count;
        this.advance(count);
      }
    }
    this.consumed += take;
    return out;
  }

  private advance(count: number): void {
    this.head += count;
    this.buffered -= count;
    if (this.head === (this.pieces[0] as Buffer).length) {
      this.pieces.shift();
      this.head = 0;
    }
  }

  /** True when no byte is left (pulls at most one more piece to find out). */
  async atEnd(): Promise<boolean> {
    while (this.buffered === 0) {
      if (!(await this.pull())) return true;
    }
    return false;
  }

  /** Stops the source early (destroys a Readable); safe to call more than once. */
  async close(): Promise<void> {
    this.pieces.length = 0;
    this.buffered = 0;
    if (!this.ended) {
      this.ended = true;
      await this.source.return?.();
    }
  }
}
