/**
 * The real daemon bundle, started through the real loader as a child process (optionally inside
 * a network namespace), with a line-level view of its stdio for tests.
 */
import { spawn, ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { encodeLine, LineDecoder } from '../../lib/protocol/framing.js';
import type { DaemonOptions } from '../../lib/protocol/messages.js';
import { daemonBundle, LOADER_JS, loaderArgs } from '../../lib/transport/loader.js';

export type Msg = { id?: number | null; method?: string; result?: any; error?: { code: number; message: string }; params?: any };

export interface TestDaemon {
  child: ChildProcessWithoutNullStreams;
  pid: number;
  exited: Promise<number | null>;
  stderr: () => string;
  next(): Promise<Msg>;
  /** Send a request and wait for the answer with the same id (other lines are skipped). */
  call(method: string, params?: unknown): Promise<Msg>;
  raw(text: string): void;
  close(): Promise<void>;
}

export async function startDaemon(options: DaemonOptions, netns?: string, detached = false): Promise<TestDaemon> {
  const bundle = daemonBundle();
  const argv = [process.execPath, '-e', LOADER_JS, ...loaderArgs(bundle, options)];
  const [cmd, ...args] = netns ? ['ip', 'netns', 'exec', netns, ...argv] : argv;
  const child = spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'pipe'], detached });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  child.stdin.on('error', () => {});
  child.stdin.write(bundle.code);
  const decoder = new LineDecoder(1 << 24);
  const inbox: Msg[] = [];
  const waiters: (() => void)[] = [];
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  child.stdout.on('data', (c: Buffer) => {
    for (const ev of decoder.push(c)) if ('line' in ev) inbox.push(JSON.parse(ev.line));
    waiters.splice(0).forEach((w) => w());
  });
  const next = async (): Promise<Msg> => {
    while (inbox.length === 0) await new Promise<void>((r) => waiters.push(r));
    return inbox.shift()!;
  };
  let id = 0;
  const ready = await next();
  if (ready.method !== 'meshperf.ready') throw new Error(`first line was not ready: ${JSON.stringify(ready)}`);
  return {
    child,
    pid: ready.params.pid,
    exited,
    stderr: () => err,
    next,
    async call(method, params) {
      const my = ++id + 1_000_000;
      child.stdin.write(encodeLine({ jsonrpc: '2.0', id: my, method, params }));
      for (;;) {
        const m = await next();
        if (m.id === my) return m;
      }
    },
    raw: (text) => child.stdin.write(text),
    async close() {
      child.stdin.end();
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      child.kill('SIGKILL');
    },
  };
}
