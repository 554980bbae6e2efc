/**
 * iperf3 command lines, built as argument vectors (never a shell string), passing each optional
 * flag only to the iperf3 versions that know it. docs/measurement.md lists the same table.
 */
import type { IperfOptions } from '../protocol/messages.js';
import { FLAG_SINCE, supports } from '../shared/versions.js';

export interface ServerArgs {
  port: number;
  bind: string;
  cpu: number | null;
  idleTimeout?: number;
}

export function serverArgv(iperf3: string, version: string | null, a: ServerArgs): string[] {
  const argv = [iperf3, '-s', '-1', '-J', '-p', String(a.port), '-B', a.bind];
  if (a.cpu !== null) argv.push('-A', String(a.cpu));
  if (a.idleTimeout && supports(version, '--idle-timeout')) argv.push('--idle-timeout', String(a.idleTimeout));
  return argv;
}

export interface ClientArgs {
  host: string;
  port: number;
  bind?: string;
  cpu: number | null;
  options: IperfOptions;
  /** One JSON object per interval on stdout, for live progress. */
  live?: boolean;
}

/**
 * The client's argv. A requested option this iperf3 cannot do is an error (the caller reports
 * it), never silently dropped; optional helpers (--json-stream) are used only where supported.
 */
export function clientArgv(iperf3: string, version: string | null, a: ClientArgs): string[] {
  const o = a.options;
  const argv = [iperf3, '-c', a.host, '-p', String(a.port), '-t', String(o.duration), '-P', String(o.parallel)];
  argv.push(a.live && supports(version, '--json-stream') ? '--json-stream' : '-J');
  if (a.bind) argv.push('-B', a.bind);
  if (a.cpu !== null) argv.push('-A', String(a.cpu));
  if (o.protocol === 'udp') argv.push('-u');
  if (o.bitrate !== undefined) argv.push('-b', String(o.bitrate));
  if (o.reverse) argv.push('-R');
  if (o.bidir) {
    if (!supports(version, '--bidir')) throw new Error(`--bidir needs iperf3 >= ${FLAG_SINCE['--bidir']}, this host has ${version}`);
    argv.push('--bidir');
  }
  if (o.window !== undefined) argv.push('-w', String(o.window));
  if (o.mss !== undefined) argv.push('-M', String(o.mss));
  if (o.congestion !== undefined) argv.push('-C', o.congestion);
  if (o.omit) argv.push('-O', String(o.omit));
  if (o.tos !== undefined) argv.push('-S', String(o.tos));
  if (o.dscp !== undefined) argv.push('--dscp', String(o.dscp));
  if (o.zerocopy) argv.push('-Z');
  if (o.no_delay) argv.push('-N');
  return argv;
}
