/**
 * What the wire says about when each test began: tcpdump on a lab bridge, taking for every test
 * (client address, server address, server port) the packet that opens its first data stream. An
 * iperf3 test opens its control connection first (one SYN), then its data streams: the second
 * distinct TCP connection's SYN; for UDP, the first datagram of its data (iperf3 numbers them from
 * 1 after an 8-byte timestamp, in either direction: -R sends from the server). The outside check
 * of meshperf's own start figures.
 */
import { spawn } from 'node:child_process';
import { LabError } from './network.js';

export interface WireStart {
  client: string;
  server: string;
  port: number;
  /** Machine clock, ms since the epoch (the controller's clock in the lab). */
  at: number;
}

export interface WireCapture {
  /** Stop capturing; each test's data start, as seen on the wire, and how many packets tcpdump lost. */
  stop(): Promise<{ starts: WireStart[]; dropped: number }>;
}

const LINE = /^(\d+\.\d+) IP6? (\S+)\.(\d+) > (\S+)\.(\d+): (Flags \[S\]|UDP, length \d+)/;

/** Start tcpdump on `device` for tests to ports `range`; resolves once it is capturing. */
export function captureStarts(device: string, range: readonly [number, number]): Promise<WireCapture> {
  const ports = `portrange ${range[0]}-${range[1]}`;
  const filter = `(dst ${ports} and tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn) or (udp and udp[16:4] = 1 and udp[4:2] > 20 and (src ${ports} or dst ${ports}))`;
  // -s 96: headers only; -B: a large buffer (KiB), so a burst of SYNs on a loaded machine is not dropped.
  const dump = spawn('tcpdump', ['-i', device, '-nn', '-tt', '-l', '-s', '96', '-B', '65536', filter], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  dump.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const exited = new Promise<void>((resolve) => dump.on('close', () => resolve()));
  return new Promise((resolve, reject) => {
    dump.on('error', (e) => reject(new LabError(`tcpdump: ${e.message} (apt-get install tcpdump)`)));
    dump.stderr.on('data', (d: Buffer) => {
      err += d.toString('utf8');
      if (/listening on/.test(err)) resolve({ stop });
    });
    void exited.then(() => reject(new LabError(`tcpdump ended before capturing: ${err.trim()}`)));
  });

  async function stop(): Promise<{ starts: WireStart[]; dropped: number }> {
    // Let the last packets reach the pipe before it is closed.
    await new Promise((r) => setTimeout(r, 200));
    dump.kill('SIGINT');
    await exited;
    const dropped = Number(/(\d+) packets? dropped by kernel/.exec(err)?.[1] ?? 0);
    return { starts: dataStarts(out, range), dropped };
  }
}

/** Each test's data start from tcpdump's lines; `range` tells the servers' ports. */
export function dataStarts(text: string, range: readonly [number, number]): WireStart[] {
  // Per test, each connection (by source port): its first SYN (which tells the control connection
  // from the data streams) and its last (a retransmitted SYN: the connection began when it got through).
  const tests = new Map<string, { client: string; server: string; port: number; syns: Map<number, { first: number; last: number }>; udp: number | null }>();
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const [, t, from, fromPort, to, toPort, kind] = m;
    const syn = kind!.startsWith('Flags');
    // A SYN goes client -> server; UDP data either way (to the server's port, or from it with -R).
    const toServer = syn || (Number(toPort) >= range[0] && Number(toPort) <= range[1]);
    const [client, server, port] = toServer ? [from!, to!, Number(toPort)] : [to!, from!, Number(fromPort)];
    const key = `${client} ${server} ${port}`;
    let test = tests.get(key);
    if (!test) tests.set(key, (test = { client, server, port, syns: new Map(), udp: null }));
    const at = Number(t) * 1000;
    if (syn) {
      const c = test.syns.get(Number(fromPort));
      if (c) c.last = at;
      else test.syns.set(Number(fromPort), { first: at, last: at });
    } else test.udp ??= at;
  }
  return [...tests.values()].flatMap((x) => {
    const at = x.udp ?? [...x.syns.values()].sort((a, b) => a.first - b.first)[1]?.last;
    return at === undefined ? [] : [{ client: x.client, server: x.server, port: x.port, at }];
  });
}

/** Latest minus earliest, ms. */
export function wireSpread(starts: WireStart[]): number {
  const at = starts.map((s) => s.at);
  return at.length ? Math.max(...at) - Math.min(...at) : 0;
}
