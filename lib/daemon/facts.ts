/** What the daemon tells the controller about its host in `hello`. */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import type { HelloResult } from '../protocol/messages.js';
import { PROTOCOL_VERSION } from '../protocol/messages.js';
import { parseIperfVersion } from '../shared/versions.js';

export const DAEMON_VERSION = '0.1.0';

export interface IperfFacts {
  path: string;
  version: string | null;
  error: string | null;
}

/** Run `iperf3 --version` once; a missing or broken binary is a fact to report, not a crash. */
export function probeIperf(path: string): IperfFacts {
  const r = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 5000 });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    const where = path.includes('/') ? `there is no ${path}` : `it is not on the PATH of this login (${process.env.PATH ?? 'no PATH'})`;
    return { path, version: null, error: `iperf3 not found as "${path}": ${where}` };
  }
  if (r.error) return { path, version: null, error: `cannot run ${path}: ${r.error.message}` };
  const version = parseIperfVersion(`${r.stdout}\n${r.stderr}`);
  if (!version) return { path, version: null, error: `${path} --version printed no iperf 3 version` };
  return { path, version, error: null };
}

/** `cpuLimitCores`: what the daemon's cgroup allows (HealthSampler, which reads it once). */
export function hostFacts(iperf: IperfFacts, cpus: number[], cpuLimitCores: number | null): Omit<HelloResult, 'max_processes'> {
  return {
    protocol: PROTOCOL_VERSION,
    daemon_version: DAEMON_VERSION,
    node_version: process.version,
    hostname: os.hostname(),
    pid: process.pid,
    platform: process.platform,
    cpus,
    memory_total_bytes: os.totalmem(),
    memory_free_bytes: os.freemem(),
    cpu_limit_cores: cpuLimitCores,
    iperf3_path: iperf.path,
    iperf3_version: iperf.version,
    iperf3_error: iperf.error,
    time_ms: Date.now(),
  };
}
