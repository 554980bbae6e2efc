/**
 * The run's log, <out>/meshperf.log: one JSON object per line, with a timestamp, the host and the
 * event, so that what happened to each host can be told afterwards without running again. The
 * entries are the run's events (lib/mesh/events.ts), made compact where an event carries bulk
 * (collected records are listed by id and outcome; their documents are in results.json); the
 * per-second intervals of each instance are left out.
 */
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import type { MeshEvent } from './events.js';

export const LOG_FILE = 'meshperf.log';

export interface LogEntry {
  /** ISO 8601, controller clock, ms. */
  ts: string;
  event: string;
  host?: string;
  [detail: string]: unknown;
}

/** The log entry of an event, or null for one not logged (intervals: results.json has them). */
export function logEntry(e: MeshEvent, now: Date = new Date()): LogEntry | null {
  if (e.type === 'interval') return null;
  const { type, ...rest } = e;
  const entry: LogEntry = { ts: now.toISOString(), event: type, ...rest };
  if (e.type === 'host-collected') {
    delete entry.records;
    entry.instances = e.records.map((r) => ({ id: r.id, role: r.role, state: r.state, exit_code: r.exit_code, signal: r.signal, timed_out: r.timed_out || undefined }));
  }
  return entry;
}

export interface RunLog {
  write(entry: Omit<LogEntry, 'ts'> & { ts?: string }): void;
  /** Log an event (when it is logged at all). */
  event(e: MeshEvent): void;
  close(): Promise<void>;
}

/** Append to <dir>/meshperf.log; a write that fails is reported once to `onError`, never thrown. */
export function openRunLog(dir: string, onError: (err: Error) => void): RunLog {
  const stream = createWriteStream(path.join(dir, LOG_FILE), { flags: 'a' });
  let failed = false;
  stream.on('error', (err) => {
    if (!failed) onError(err);
    failed = true;
  });
  const write = (entry: Omit<LogEntry, 'ts'> & { ts?: string }) => {
    if (!failed) stream.write(JSON.stringify({ ts: new Date().toISOString(), ...entry }) + '\n');
  };
  return {
    write,
    event(e) {
      const entry = logEntry(e);
      if (entry) write(entry);
    },
    close: () => new Promise((resolve) => (failed ? resolve() : stream.end(resolve))),
  };
}
