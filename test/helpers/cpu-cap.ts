/**
 * A CPU quota on some processes, as a container or a systemd slice would put on a host: a cgroup
 * (v1 `cpu` controller, or v2 `cpu.max`) that the processes, and all they start, run in. Removed
 * in the test's teardown, its processes moved back to the root.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Test } from 'tap';
import { throttlingOf } from '../../lib/daemon/cgroup.js';

const V1 = '/sys/fs/cgroup/cpu';
const V2 = '/sys/fs/cgroup';

function layout(): { root: string; version: 1 | 2 } | null {
  if (existsSync(path.join(V1, 'cpu.cfs_quota_us'))) return { root: V1, version: 1 };
  if (existsSync(path.join(V2, 'cgroup.controllers')) && readFileSync(path.join(V2, 'cgroup.controllers'), 'utf8').split(/\s/).includes('cpu')) return { root: V2, version: 2 };
  return null;
}

/** Whether a capped cgroup can be made here: tried once, and removed. */
function probe(): boolean {
  const l = layout();
  if (!l) return false;
  const dir = path.join(l.root, `meshperf-test-probe-${process.pid}`);
  try {
    if (l.version === 2) writeFileSync(path.join(l.root, 'cgroup.subtree_control'), '+cpu');
    mkdirSync(dir);
    writeFileSync(path.join(dir, l.version === 1 ? 'cpu.cfs_quota_us' : 'cpu.max'), l.version === 1 ? '1000' : '1000 100000');
    return true;
  } catch {
    return false;
  } finally {
    try {
      rmdirSync(dir);
    } catch {
      // never made
    }
  }
}

export const canCapCpu = probe();

export interface CpuCap {
  dir: string;
  version: 1 | 2;
  /** Its counters now: periods and those in which the quota held it back. */
  stat(): { periods: number; throttled: number };
}

/** Hold `pids` (and their future children) to `cores` of CPU until the test ends. */
export function capCpu(t: Test, name: string, cores: number, pids: number[]): CpuCap {
  const l = layout();
  if (!l) throw new Error('no cgroup cpu controller to cap with');
  const dir = path.join(l.root, name);
  mkdirSync(dir, { recursive: true });
  const period = 100_000;
  if (l.version === 1) {
    writeFileSync(path.join(dir, 'cpu.cfs_period_us'), String(period));
    writeFileSync(path.join(dir, 'cpu.cfs_quota_us'), String(Math.round(cores * period)));
  } else {
    writeFileSync(path.join(l.root, 'cgroup.subtree_control'), '+cpu');
    writeFileSync(path.join(dir, 'cpu.max'), `${Math.round(cores * period)} ${period}`);
  }
  t.teardown(() => {
    for (const p of readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
      try {
        writeFileSync(path.join(l.root, 'cgroup.procs'), p);
      } catch {
        // gone meanwhile
      }
    }
    rmdirSync(dir);
  });
  for (const pid of pids) writeFileSync(path.join(dir, 'cgroup.procs'), String(pid));
  return {
    dir,
    version: l.version,
    stat: () => throttlingOf(readFileSync(path.join(dir, 'cpu.stat'), 'utf8'))!,
  };
}
