/** Health of the host and of the daemon itself, sampled on `status`. */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { HealthSample } from '../protocol/messages.js';
import { cpuCgroup, readThrottling, Throttling } from './cgroup.js';

interface CpuTimes {
  busy: number;
  total: number;
}

function hostCpuTimes(): CpuTimes | null {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    const total = f.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/** Each sample reports the CPU used since the previous one (or since the daemon started). */
export class HealthSampler {
  private lastHost = hostCpuTimes();
  private lastSelf = process.cpuUsage();
  private lastAt = Date.now();
  /** Only a cgroup with a quota can throttle. */
  private readonly cgroup = ((cg) => (cg?.cores != null ? cg : null))(cpuCgroup());
  private lastThrottle: Throttling | null = this.cgroup && readThrottling(this.cgroup);

  /** Cores the daemon's cgroup lets it (and the iperf3 it starts) use, rounded; null when unlimited. */
  get cpuLimitCores(): number | null {
    return this.cgroup ? Math.round(this.cgroup.cores! * 1000) / 1000 : null;
  }

  sample(active: number): HealthSample {
    const now = Date.now();
    const host = hostCpuTimes();
    const self = process.cpuUsage();
    let hostPercent: number | null = null;
    if (host && this.lastHost && host.total > this.lastHost.total) {
      hostPercent = (100 * (host.busy - this.lastHost.busy)) / (host.total - this.lastHost.total);
    }
    const wallUs = (now - this.lastAt) * 1000;
    const selfUs = self.user - this.lastSelf.user + (self.system - this.lastSelf.system);
    this.lastHost = host;
    this.lastSelf = self;
    this.lastAt = now;
    const throttle = this.cgroup && readThrottling(this.cgroup);
    const before = this.lastThrottle;
    this.lastThrottle = throttle;
    const periods = throttle && before ? throttle.periods - before.periods : 0;
    return {
      time_ms: now,
      active,
      host_cpu_percent: hostPercent === null ? null : Math.round(hostPercent * 10) / 10,
      host_memory_free_bytes: os.freemem(),
      load_average_1m: os.loadavg()[0] ?? 0,
      daemon_cpu_percent: wallUs > 0 ? Math.round((1000 * selfUs) / wallUs) / 10 : null,
      daemon_rss_bytes: process.memoryUsage().rss,
      cpu_throttled_percent: this.cgroup === null ? null : periods > 0 ? Math.round((1000 * (throttle!.throttled - before!.throttled)) / periods) / 10 : 0,
    };
  }
}
