/**
 * One poll loop for everything the daemon waits on in /proc: servers reaching LISTEN, clients
 * connecting to their held servers. Reading /proc/net/tcp costs milliseconds however few sockets
 * a namespace holds (the kernel walks the machine-wide TCP hash table), so it is read once per tick
 * for every waiting server, and only for the address families in use; between ticks the event
 * loop is free, so the daemon answers heartbeats while it starts hundreds of processes.
 */
import { readFileSync } from 'node:fs';
import { parseProcNetTcp, SocketEntry, TCP_ESTABLISHED, TCP_LISTEN } from '../shared/proc-net-tcp.js';
import { procState, socketInodes } from './proc.js';

export type Family = 4 | 6;

interface Waiter {
  check: (view: TickView) => boolean;
  done: (ok: boolean) => void;
  deadline: number;
}

/** What one tick read of /proc/net/tcp{,6}, per family (each read once, only when asked for). */
class TickView {
  private readonly sockets = new Map<Family, SocketEntry[]>();
  private readonly listening = new Map<Family, Map<number, Set<number>>>();
  private readonly established = new Map<Family, Map<number, number>>();

  private read(family: Family): SocketEntry[] {
    let entries = this.sockets.get(family);
    if (!entries) {
      let text = '';
      try {
        text = readFileSync(family === 4 ? '/proc/net/tcp' : '/proc/net/tcp6', 'utf8');
      } catch {
        // no IPv6 in this kernel: no sockets there
      }
      entries = parseProcNetTcp(text);
      this.sockets.set(family, entries);
    }
    return entries;
  }

  /** Listening sockets' inodes by local port. */
  listeners(family: Family): Map<number, Set<number>> {
    let byPort = this.listening.get(family);
    if (!byPort) {
      byPort = new Map();
      for (const s of this.read(family)) {
        if (s.state !== TCP_LISTEN) continue;
        if (!byPort.has(s.port)) byPort.set(s.port, new Set());
        byPort.get(s.port)!.add(s.inode);
      }
      this.listening.set(family, byPort);
    }
    return byPort;
  }

  /** Established sockets: inode -> the peer's port. */
  connections(family: Family): Map<number, number> {
    let byInode = this.established.get(family);
    if (!byInode) {
      byInode = new Map(this.read(family).filter((s) => s.state === TCP_ESTABLISHED).map((s) => [s.inode, s.remotePort]));
      this.established.set(family, byInode);
    }
    return byInode;
  }
}

export class ProcWatch {
  private readonly waiters = new Set<Waiter>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly tickMs = 10) {}

  /** Resolves true once process `pid` itself holds a socket listening on `port`; false at the deadline or when `gone()`. */
  listening(pid: number, port: number, family: Family, timeoutMs: number, gone: () => boolean): Promise<boolean> {
    return this.wait((view) => {
      if (gone()) return true;
      const inodes = view.listeners(family).get(port);
      if (!inodes) return false;
      const mine = socketInodes(pid);
      return [...inodes].some((i) => mine.has(i));
    }, timeoutMs);
  }

  /**
   * Resolves true once process `pid` holds an established connection to port `port` (an iperf3
   * client's control connection, which a held server's kernel completes), or when `gone()`;
   * false at the deadline.
   */
  connected(pid: number, port: number, family: Family, timeoutMs: number, gone: () => boolean): Promise<boolean> {
    return this.wait((view) => {
      if (gone()) return true;
      const conns = view.connections(family);
      for (const inode of socketInodes(pid)) if (conns.get(inode) === port) return true;
      return false;
    }, timeoutMs);
  }

  /** Resolves once process `pid` is stopped (or has ended), within `timeoutMs`. */
  stopped(pid: number, timeoutMs: number, gone: () => boolean): Promise<boolean> {
    return this.wait(() => gone() || procState(pid) === 'T', timeoutMs);
  }

  private wait(check: Waiter['check'], timeoutMs: number): Promise<boolean> {
    return new Promise((done) => {
      this.waiters.add({ check, done, deadline: Date.now() + timeoutMs });
      this.timer ??= setTimeout(() => this.tick(), this.tickMs);
    });
  }

  private tick(): void {
    this.timer = null;
    const view = new TickView();
    const now = Date.now();
    for (const w of this.waiters) {
      const ok = w.check(view);
      if (ok || now >= w.deadline) {
        this.waiters.delete(w);
        w.done(ok);
      }
    }
    if (this.waiters.size > 0) this.timer = setTimeout(() => this.tick(), this.tickMs);
  }
}

/** The address family of a literal address (a name counts as IPv4, as iperf3 -B resolves it). */
export function familyOf(address: string): Family {
  return address.includes(':') ? 6 : 4;
}
