/**
 * The iperf3 processes this daemon started: spawn (argv only, never a shell), pin, watch, reap,
 * and kill. Each runs in its own process group so that killing the group takes all of it.
 */
import { spawn, ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
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
   * Start it stopped, to be let go by release(): the cost of creating the process is paid
   * before the common start instant, so that all clients of a round start within a few ms.
   * A held process stays in the daemon's process group, so that one signal to the group can
   * release every held client at once (see releaseGroup).
   */
  held?: boolean;
}

/** A shell that stops itself and, once continued, becomes the real command (same pid). */
const HOLD = ['/bin/sh', '-c', 'kill -STOP $$; exec "$0" "$@"'];

/**
 * Let every held process go with one signal to the daemon's process group, when the daemon leads
 * its own group (as under sshd, or the local transport): one system call, so that the kernel's
 * scheduler cannot pause the daemon between two releases once the first clients load the host.
 * Returns false where the daemon shares a group with others; then each is released in turn.
 */
export function releaseGroup(held: Instance[]): boolean {
  if (!leadsOwnGroup()) return false;
  const now = Date.now();
  for (const inst of held) if (inst.running) inst.record.started_at = now;
  // SIGCONT resumes the stopped and does nothing to the running (the daemon, earlier clients).
  process.kill(-process.pid, 'SIGCONT');
  return true;
}

/** iperf3 --json-stream prints one {"event", "data"} object per line; called for each interval. */
export type IntervalListener = (id: string, data: Record<string, unknown>) => void;

export class Instance {
  readonly record: InstanceRecord;
  readonly exited: Promise<void>;
  private readonly child: ChildProcess;
  /** Leads its own process group (killed as a group), or sits in the daemon's (held clients). */
  private readonly ownGroup: boolean;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private stdout: Buffer[] = [];
  private stdoutSize = 0;
  private stderr = '';

  /** Set for a --json-stream client: reads its output line by line as it comes. */
  private readonly stream: JsonStream | null;

  constructor(spec: SpawnSpec, daemonPid: number, onInterval?: IntervalListener) {
    const argv = spec.held ? [...HOLD, ...spec.argv] : spec.argv;
    const [cmd, ...args] = SETPRIV ? [SETPRIV, '--pdeathsig', 'KILL', '--', ...argv] : argv;
    this.ownGroup = !spec.held;
    this.child = spawn(cmd!, args, { detached: this.ownGroup, stdio: ['ignore', 'pipe', 'pipe'] });
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

  /** Let a held process go; its start time is now. */
  release(): void {
    if (!this.running) return;
    this.record.started_at = Date.now();
    this.signal('SIGCONT');
  }

  /**
   * Kill it if it still runs `ms` from now (a client hung past its duration on a peer that is
   * gone), and say so; but if its host was starved of CPU at any sampled moment of that time
   * (hundreds of processes on a few cores, where iperf3's own exchanges wait seconds for their
   * turn) it is only slow: then it is looked at again after `againMs`, until `maxMs` from now.
   * Whether it uses CPU tells nothing: a hung iperf3 may spin. A new deadline replaces the one
   * before (a held client's, once released).
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
    this.signal('SIGCONT'); // a held (stopped) process gets its TERM only once continued
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
