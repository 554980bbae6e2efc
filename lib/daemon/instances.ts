/**
 * The iperf3 processes this daemon started: spawn (argv only, never a shell), pin, watch, reap,
 * and kill. A client (or an unheld server) leads its own process group, so that killing the group
 * takes all of it; a held server stays in the daemon's, so that one signal wakes them all.
 */
import { spawn, ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import type { InstanceLabel, InstanceRecord, InstanceRole, InstanceStatus } from '../protocol/messages.js';
import { JsonStream } from './json-stream.js';
import { leadsOwnGroup, procState, starvedWithin, watchLoad } from './proc.js';
import { parseFirstJson } from '../shared/iperf-json.js';

/** Keep at most this much of a process's output (iperf3 -J of a long test is a few MB). */
const MAX_STDOUT = 64 * 1024 * 1024;
const MAX_STDERR = 64 * 1024;
/** Grace between SIGTERM and SIGKILL when stopping. */
const KILL_GRACE_MS = 1000;

/**
 * With util-linux setpriv in front, the kernel kills iperf3 if the daemon itself dies without
 * cleaning up (SIGKILL, OOM): the backstop to the stdin-EOF cleanup.
 */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

export interface SpawnSpec extends InstanceLabel {
  role: InstanceRole;
  argv: string[];
  cpu: number | null;
  port: number;
  address: string;
  iperf3_version: string | null;
  scheduled_at?: number | null;
  /**
   * A server to be held stopped until its round's instant. It stays in the daemon's process
   * group, so that one signal to the group can wake every held server at once (see wakeGroup).
   */
  held?: boolean;
}

/**
 * Wake held servers with one signal to the daemon's process group, when the daemon leads its own
 * group (as under sshd, or the local transport): one system call, so that the kernel's scheduler
 * cannot pause the daemon between two wakes once the first tests load the host. Only when every
 * stopped process of the group is to be woken: SIGCONT does nothing to the running (the daemon,
 * clients), but would wake a later round's held servers. Returns false when it cannot; then the
 * caller wakes each in turn.
 */
export function wakeGroup(servers: Instance[], allHeld: boolean): boolean {
  if (!allHeld || !leadsOwnGroup()) return false;
  const now = Date.now();
  for (const inst of servers) if (inst.running) inst.record.released_at = now;
  process.kill(-process.pid, 'SIGCONT');
  return true;
}

/**
 * Every iperf3 runs this much nicer than the daemon: on a host its tests saturate (the normal
 * case), the daemon that answers the controller, watches starts and keeps deadlines outranks its
 * own load. Each iperf3 has the same niceness, so they share the CPU as before: 8 lab hosts,
 * full mesh, 5 s, 19.3-20.2 Gbit/s in all at the same niceness, 19.1-19.7 with it (4 runs each).
 * A rise in niceness needs no privilege.
 */
export const IPERF3_NICENESS = 5;

function yieldToDaemon(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    os.setPriority(pid, Math.min(19, os.getPriority() + IPERF3_NICENESS));
  } catch {
    // Already gone: its exit is recorded as any other.
  }
}

/** iperf3 --json-stream prints one {"event", "data"} object per line; called for each interval. */
export type IntervalListener = (id: string, data: Record<string, unknown>) => void;

export class Instance {
  readonly record: InstanceRecord;
  readonly exited: Promise<void>;
  private readonly child: ChildProcess;
  /** Leads its own process group (killed as a group), or sits in the daemon's (held servers). */
  private readonly ownGroup: boolean;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private stdout: Buffer[] = [];
  private stdoutSize = 0;
  private stderr = '';

  /** Set for a --json-stream client: reads its output line by line as it comes. */
  private readonly stream: JsonStream | null;

  constructor(spec: SpawnSpec, daemonPid: number, onInterval?: IntervalListener) {
    const [cmd, ...args] = SETPRIV ? [SETPRIV, '--pdeathsig', 'KILL', '--', ...spec.argv] : spec.argv;
    this.ownGroup = !spec.held;
    this.child = spawn(cmd!, args, { detached: this.ownGroup, stdio: ['ignore', 'pipe', 'pipe'] });
    yieldToDaemon(this.child.pid);
    const { argv: recorded, scheduled_at, held: _held, ...label } = spec;
    this.record = {
      ...label,
      argv: recorded,
      scheduled_at: scheduled_at ?? null,
      state: 'running',
      daemon_pid: daemonPid,
      pid: this.child.pid ?? -1,
      started_at: Date.now(),
      ended_at: null,
      exit_code: null,
      signal: null,
      stderr: '',
      iperf3: null,
      timed_out: false,
      released_at: null,
      traffic_started_at: null,
    };
    this.stream = spec.argv.includes('--json-stream') ? new JsonStream(onInterval && ((data) => onInterval(this.record.id, data))) : null;
    this.child.stdout!.on('data', (c: Buffer) => {
      const keep = this.stdoutSize + c.length <= MAX_STDOUT;
      if (keep) this.stdoutSize += c.length;
      if (this.stream) this.stream.push(c, keep);
      else if (keep) this.stdout.push(c);
    });
    this.child.stderr!.on('data', (c: Buffer) => {
      this.stderr = (this.stderr + c.toString('utf8')).slice(-MAX_STDERR);
    });
    this.exited = new Promise((resolve) => {
      this.child.on('error', (err) => {
        this.stderr += String(err.message);
        this.finish(null, null);
        resolve();
      });
      this.child.on('close', (code, signal) => {
        this.finish(code, signal);
        resolve();
      });
    });
  }

  get running(): boolean {
    return this.record.state === 'running';
  }

  status(): InstanceStatus {
    return { id: this.record.id, role: this.record.role, state: this.record.state, pid: this.record.pid };
  }

  /** Stop it (a server that listens): its kernel still completes handshakes meanwhile. */
  hold(): void {
    this.signal('SIGSTOP');
  }

  /** Wake a held server; its release time is now. */
  wake(): void {
    if (!this.running) return;
    this.record.released_at = Date.now();
    this.signal('SIGCONT');
  }

  /**
   * Kill it if it still runs `ms` from now (a client hung past its duration on a peer that is
   * gone), and say so; but if its host was starved of CPU at any sampled moment of that time
   * (hundreds of processes on a few cores, where iperf3's own exchanges wait seconds for their
   * turn) it is only slow: then it is looked at again after `againMs`, until `maxMs` from now.
   * Whether it uses CPU tells nothing: a hung iperf3 may spin. A new deadline replaces the one
   * before (a waiting client's, once its round is released).
   */
  deadline(ms: number, againMs = ms, maxMs = ms): void {
    const end = Date.now() + maxMs;
    watchLoad();
    let since = ms;
    const check = () => {
      if (!this.running) return;
      // A stopped process (SIGSTOP) is not starved, whatever the load.
      if (starvedWithin(since) && procState(this.record.pid) !== 'T' && Date.now() + againMs <= end) return arm(againMs);
      this.record.timed_out = true;
      void this.kill();
    };
    const arm = (after: number) => {
      since = after;
      clearTimeout(this.deadlineTimer);
      this.deadlineTimer = setTimeout(check, after);
      this.deadlineTimer.unref();
    };
    arm(ms);
  }

  /** TERM the whole process group, then KILL what is left after a grace. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.signal('SIGTERM');
    this.signal('SIGCONT'); // a held (stopped) server gets its TERM only once continued
    const timer = setTimeout(() => this.signal('SIGKILL'), KILL_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
    // iperf3 may have forked nothing, but make sure no straggler of the group survives.
    this.signal('SIGKILL');
  }

  private signal(sig: NodeJS.Signals): void {
    if (this.record.pid <= 0) return;
    try {
      process.kill(this.ownGroup ? -this.record.pid : this.record.pid, sig);
    } catch {
      // already gone
    }
  }

  private finish(code: number | null, signal: NodeJS.Signals | null): void {
    if (!this.running) return;
    clearTimeout(this.deadlineTimer);
    Object.assign(this.record, {
      state: 'exited',
      ended_at: Date.now(),
      exit_code: code,
      signal,
      stderr: this.stderr,
      iperf3: this.stream ? this.stream.end() : parseFirstJson(Buffer.concat(this.stdout, this.stdoutSize).toString('utf8')),
    });
  }
}
