/**
 * iperf3 command lines, built as argument vectors (never a shell string), passing each optional
 * flag only to the iperf3 versions that know it. docs/measurement.md lists the same table.
 */
import type { IperfOptions } from '../protocol/messages.js';
import { OPTION_LIST, optionArgv } from '../shared/options.js';
import { supports, versionAtLeast } from '../shared/versions.js';

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
  for (const [key, s] of OPTION_LIST) {
    if (s.since && s.flag && a.options[key as keyof IperfOptions] && !versionAtLeast(version, s.since)) {
      throw new Error(`${s.flag} needs iperf3 >= ${s.since}, this host has ${version}`);
    }
  }
  const argv = [iperf3, '-c', a.host, '-p', String(a.port)];
  argv.push(a.live && supports(version, '--json-stream') ? '--json-stream' : '-J');
  if (a.bind) argv.push('-B', a.bind);
  if (a.cpu !== null) argv.push('-A', String(a.cpu));
  return [...argv, ...optionArgv(a.options)];
}
