/**
 * The CPU the daemon's cgroup allows, and how often it was held back: the true evidence for a
 * host that measures low because its processes are starved (a container's or a systemd slice's
 * CPU quota), not because its NIC or link is bad. Both cgroup versions: v1 (`cpu` controller,
 * cpu.cfs_quota_us / cpu.cfs_period_us) and v2 (unified, cpu.max). The limit in force is the
 * tightest along the path to the root; the throttling is read where that limit is set.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseMountinfo } from '../shared/mountinfo.js';

export interface CpuCgroup {
  version: 1 | 2;
  /** The directory whose limit is the tightest (or the process's own, with no limit). */
  dir: string;
  /** Cores the cgroup may use (quota / period); null when unlimited. */
  cores: number | null;
}

export interface Throttling {
  periods: number;
  throttled: number;
}

const read = (file: string): string | null => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
};

/**
 * Where the process's cpu cgroup is: from /proc/self/cgroup (v1 "N:cpu,cpuacct:/path", v2
 * "0::/path") and /proc/self/mountinfo (the hierarchy's mount point). Pure, for the tests.
 */
export function locateCpuCgroup(selfCgroup: string, mountinfo: string): { version: 1 | 2; dir: string; mount: string } | null {
  const mounts = parseMountinfo(mountinfo);
  for (const line of selfCgroup.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    const [, controllers, cgPath] = m as unknown as [string, string, string];
    const v1 = controllers.split(',').includes('cpu');
    if (!v1 && controllers !== '') continue;
    const mount = mounts.find((x) => (v1 ? x.fstype === 'cgroup' && x.options.includes('cpu') : x.fstype === 'cgroup2'));
    if (!mount) continue;
    // Inside a cgroup namespace or container the mount's root is where the path begins.
    const rel = mount.root !== '/' && cgPath.startsWith(mount.root) ? cgPath.slice(mount.root.length) : cgPath;
    return { version: v1 ? 1 : 2, dir: path.join(mount.point, rel), mount: mount.point };
  }
  return null;
}

/** Cores one directory's own limit allows; null when it sets none. */
export function coresOf(version: 1 | 2, files: { quota?: string | null; period?: string | null; max?: string | null }): number | null {
  if (version === 2) {
    const [q, p] = (files.max ?? '').trim().split(/\s+/);
    return q && q !== 'max' && Number(p) > 0 ? Number(q) / Number(p) : null;
  }
  const q = Number((files.quota ?? '').trim());
  const p = Number((files.period ?? '').trim());
  return q > 0 && p > 0 ? q / p : null;
}

/** Periods and throttled periods from a cpu.stat (both versions name them alike). */
export function throttlingOf(cpuStat: string | null): Throttling | null {
  const n = (k: string) => Number(new RegExp(`^${k} (\\d+)$`, 'm').exec(cpuStat ?? '')?.[1] ?? NaN);
  const periods = n('nr_periods');
  const throttled = n('nr_throttled');
  return Number.isFinite(periods) && Number.isFinite(throttled) ? { periods, throttled } : null;
}

/** The daemon's cpu cgroup on this machine and the tightest limit on its path; null when it cannot be read. */
export function cpuCgroup(): CpuCgroup | null {
  const where = locateCpuCgroup(read('/proc/self/cgroup') ?? '', read('/proc/self/mountinfo') ?? '');
  if (!where) return null;
  let best: CpuCgroup = { version: where.version, dir: where.dir, cores: null };
  for (let dir = where.dir; dir.startsWith(where.mount); dir = path.dirname(dir)) {
    const cores =
      where.version === 2
        ? coresOf(2, { max: read(path.join(dir, 'cpu.max')) })
        : coresOf(1, { quota: read(path.join(dir, 'cpu.cfs_quota_us')), period: read(path.join(dir, 'cpu.cfs_period_us')) });
    if (cores !== null && (best.cores === null || cores < best.cores)) best = { version: where.version, dir, cores };
    if (dir === where.mount) break;
  }
  return best;
}

/** Its throttling counters now. */
export function readThrottling(cg: CpuCgroup): Throttling | null {
  return throttlingOf(read(path.join(cg.dir, 'cpu.stat')));
}
