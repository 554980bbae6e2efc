/**
 * JSON.stringify's text, written to a file piece by piece: a results document of a thousand hosts
 * is never one string in memory, and the iperf3 documents kept on disk (results/raw-docs.ts) are
 * copied from there one at a time. Once written, each field that held such a digest reads its
 * document from the written file when asked, so the document in memory stays small and whole.
 */
import { closeSync, openSync, renameSync, writeSync } from 'node:fs';
import { readRaw, readRawText, RawRef, refOf } from './raw-docs.js';

const CHUNK = 1 << 20;

/** Buffered writes to an open file, counting the bytes written. */
class Output {
  private parts: string[] = [];
  private size = 0;
  bytes = 0;
  constructor(private readonly fd: number) {}

  put(text: string): void {
    this.parts.push(text);
    this.size += text.length;
    this.bytes += Buffer.byteLength(text);
    if (this.size >= CHUNK) this.flush();
  }

  flush(): void {
    if (this.parts.length) writeSync(this.fd, this.parts.join(''));
    this.parts = [];
    this.size = 0;
  }
}

interface Placed {
  holder: Record<string, unknown>;
  key: string;
  offset: number;
  length: number;
}

/**
 * Write `value` to `file` as JSON.stringify(value, null, indent) would, plus a newline; the file
 * appears whole or not at all.
 */
export function writeJsonFile(file: string, value: unknown, indent = 0): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  const placed: Placed[] = [];
  try {
    const out = new Output(fd);
    const pad = (depth: number) => (indent ? '\n' + ' '.repeat(indent * depth) : '');
    const colon = indent ? ': ' : ':';

    const write = (v: unknown, depth: number, holder: Record<string, unknown> | null, key: string): void => {
      const ref = refOf(v);
      if (ref) {
        const at = out.bytes;
        out.put(rawText(ref, indent, pad(depth)));
        if (holder) placed.push({ holder, key, offset: at, length: out.bytes - at });
        return;
      }
      if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') v = (v as { toJSON: () => unknown }).toJSON();
      if (v === null || typeof v !== 'object') return out.put(JSON.stringify(v) ?? 'null');
      if (Array.isArray(v)) {
        if (!v.length) return out.put('[]');
        out.put('[');
        v.forEach((item, k) => {
          out.put((k ? ',' : '') + pad(depth + 1));
          if (skipped(item)) out.put('null');
          else write(item, depth + 1, v as unknown as Record<string, unknown>, String(k));
        });
        return out.put(pad(depth) + ']');
      }
      const obj = v as Record<string, unknown>;
      const keys = Object.keys(obj).filter((k) => !skipped(obj[k]));
      if (!keys.length) return out.put('{}');
      out.put('{');
      keys.forEach((k, n) => {
        out.put((n ? ',' : '') + pad(depth + 1) + JSON.stringify(k) + colon);
        write(obj[k], depth + 1, obj, k);
      });
      out.put(pad(depth) + '}');
    };

    write(value, 0, null, '');
    out.put('\n');
    out.flush();
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  for (const p of placed) fromFile(p.holder, p.key, { file, offset: p.offset, length: p.length });
}

/** Left out of an object by JSON.stringify (written as null in an array). */
function skipped(v: unknown): boolean {
  return v === undefined || typeof v === 'function' || typeof v === 'symbol';
}

/** A document kept on disk, as JSON.stringify would write it at this depth. */
function rawText(ref: RawRef, indent: number, pad: string): string {
  // A whole value written compact is copied as it is; a field, or an indented one, is re-written.
  if (!ref.field && !indent) return readRawText(ref);
  const text = JSON.stringify(readRaw(ref), null, indent) ?? 'null';
  return indent ? text.replace(/\n/g, pad) : text;
}

/** holder[key] now reads its document from the file, each time it is asked. */
function fromFile(holder: Record<string, unknown>, key: string, ref: RawRef): void {
  Object.defineProperty(holder, key, { get: () => readRaw(ref), enumerable: true, configurable: true });
}
