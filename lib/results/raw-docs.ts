/**
 * iperf3's documents kept on disk, not in memory. A run with an output directory writes every
 * record into its journal as it arrives; once written, the record in memory keeps only a digest of
 * its document (what the results are computed from) and the digest knows where the whole
 * document lies. results.json is then written from the disk copies (results/write-json.ts), and
 * the results document's `iperf3` fields read their document from results.json when asked.
 * So the controller holds summaries, not documents: its memory does not grow with the run.
 */
import { closeSync, openSync, readSync } from 'node:fs';

/** Where one JSON value lies: `length` bytes at `offset` of `file`; `field`: one field of it. */
export interface RawRef {
  file: string;
  offset: number;
  length: number;
  field?: string;
}

const onDisk = new WeakMap<object, RawRef>();

/** The document's disk copy, when `value` is a digest standing in for it. */
export function refOf(value: unknown): RawRef | undefined {
  return typeof value === 'object' && value !== null ? onDisk.get(value) : undefined;
}

/** The digest of a document whose whole copy is at `ref`. */
export function keptAt(doc: unknown, ref: RawRef): unknown {
  if (typeof doc !== 'object' || doc === null) return doc;
  const d = digest(doc as Doc);
  onDisk.set(d, ref);
  return d;
}

/** The bytes at ref (the whole value, before `field` is taken). */
export function readRawText(ref: RawRef): string {
  const buf = Buffer.alloc(ref.length);
  const fd = openSync(ref.file, 'r');
  try {
    readSync(fd, buf, 0, ref.length, ref.offset);
  } finally {
    closeSync(fd);
  }
  return buf.toString('utf8');
}

/** The document at ref, parsed. */
export function readRaw(ref: RawRef): unknown {
  const value = JSON.parse(readRawText(ref)) as Doc;
  return ref.field ? value[ref.field] : value;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = Record<string, any>;

/**
 * What the results read of an iperf3 document (results/metrics.ts, build.ts, report/timeline.ts):
 * its error, version, first connection, protocol, each interval's sum and the end-of-test
 * summaries. Per-stream intervals and the rest of `start` stay on disk.
 */
function digest(doc: Doc): Doc {
  const out: Doc = {};
  if ('error' in doc) out.error = doc.error;
  const start = doc.start as Doc | undefined;
  if (start) {
    out.start = {
      version: start.version,
      connected: Array.isArray(start.connected) ? start.connected.slice(0, 1) : start.connected,
      test_start: start.test_start ? { protocol: start.test_start.protocol } : undefined,
    };
  }
  if (Array.isArray(doc.intervals)) {
    out.intervals = doc.intervals.map((i: Doc) => ({ sum: i?.sum ? { start: i.sum.start, end: i.sum.end, seconds: i.sum.seconds, bytes: i.sum.bytes, bits_per_second: i.sum.bits_per_second } : undefined }));
  }
  if (doc.end) out.end = doc.end;
  return out;
}
