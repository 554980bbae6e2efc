/**
 * Newline-delimited JSON framing. Bytes arrive in arbitrary chunks (SSH windows, pipes); a
 * LineDecoder turns them into whole lines, and refuses a line longer than a set limit without
 * buffering it, so a peer cannot make us hold unbounded memory.
 */

export type LineEvent = { line: string } | { tooLong: number };

export class LineDecoder {
  private parts: Buffer[] = [];
  private size = 0;
  /** While true we are discarding the rest of an over-long line up to its newline. */
  private skipping = false;

  constructor(private readonly maxBytes: number) {}

  /** Feed a chunk; returns the complete lines (and over-long-line notices) it finished. */
  push(chunk: Buffer): LineEvent[] {
    const events: LineEvent[] = [];
    let start = 0;
    while (start <= chunk.length) {
      const nl = chunk.indexOf(0x0a, start);
      const ended = nl !== -1;
      const piece = chunk.subarray(start, ended ? nl : chunk.length);
      if (this.skipping) {
        this.skipping = !ended;
      } else if (this.size + piece.length > this.maxBytes) {
        events.push({ tooLong: this.size + piece.length });
        this.parts = [];
        this.size = 0;
        this.skipping = !ended;
      } else {
        this.parts.push(piece);
        this.size += piece.length;
        if (ended) events.push({ line: this.take() });
      }
      if (!ended) break;
      start = nl + 1;
    }
    return events;
  }

  private take(): string {
    const line = Buffer.concat(this.parts, this.size).toString('utf8').replace(/\r$/, '');
    this.parts = [];
    this.size = 0;
    return line;
  }
}

/** One message, one line. JSON.stringify never emits a raw newline. */
export function encodeLine(message: unknown): string {
  return JSON.stringify(message) + '\n';
}
