/** What is running, read from /proc: for tests that check nothing was left behind. */
import { readdirSync, readFileSync } from 'node:fs';

export interface Proc {
  pid: number;
  cmdline: string;
}

export function processes(): Proc[] {
  const out: Proc[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmdline = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' ').trim();
      const state = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${d}/status`, 'utf8'))?.[1];
      if (cmdline && state !== 'Z') out.push({ pid: Number(d), cmdline });
    } catch {
      // exited while we looked
    }
  }
  return out;
}

/** iperf3 itself, or a client still held (stopped) in the shell that will exec it. */
export const isIperf = (p: Proc) => /(^|[/ ])iperf3( |$)/.test(p.cmdline);
/** The daemon runs as `node -e <loader> <length> <sha256> <options>`. */
export const isDaemon = (p: Proc) => /node -e .*meshperf-daemon/.test(p.cmdline);

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** Poll until `check` holds or `ms` pass; returns whether it held. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}
