/**
 * iperf3 --json-stream output (3.17+: one {"event", "data"} object per line), read as it arrives.
 * Each line is parsed once: an interval is passed on at once (live progress), and the lines are
 * put back together in -J's shape {start, intervals, end, error}, so results look the same
 * whichever way the client printed them.
 */
import { StringDecoder } from 'node:string_decoder';
import { parseFirstJson } from '../shared/iperf-json.js';

export interface StreamDocument {
  start?: unknown;
  intervals: unknown[];
  end?: unknown;
  error?: unknown;
}

export class JsonStream {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';
  /** Whether the chunk the unterminated line came from was kept. */
  private keepPartial = true;
  private readonly doc: StreamDocument = { intervals: [] };
  private seen = false;

  constructor(private readonly onInterval?: (data: Record<string, unknown>) => void) {}

  /** A chunk of stdout. With `keep` false (output over its size limit) it is only passed on, not kept. */
  push(chunk: Buffer, keep: boolean): void {
    const lines = (this.partial + this.decoder.write(chunk)).split('\n');
    this.partial = lines.pop() ?? '';
    this.keepPartial = keep;
    for (const line of lines) this.line(line, keep);
  }

  /** The document, once the output has ended (an unterminated last line counts); null if no event came. */
  end(): StreamDocument | null {
    this.line(this.partial + this.decoder.end(), this.keepPartial);
    this.partial = '';
    return this.seen ? this.doc : null;
  }

  private line(line: string, keep: boolean): void {
    const ev = parseFirstJson(line) as { event?: string; data?: unknown } | null;
    if (!ev?.event) return;
    if (ev.event === 'interval' && ev.data && this.onInterval) this.onInterval(ev.data as Record<string, unknown>);
    if (!keep) return;
    this.seen = true;
    if (ev.event === 'interval') this.doc.intervals.push(ev.data);
    else if (ev.event === 'start' || ev.event === 'end' || ev.event === 'error') this.doc[ev.event] = ev.data;
  }
}
