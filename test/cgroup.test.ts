// The daemon's cgroup CPU facts, as both cgroup versions write them (lib/daemon/cgroup.ts).
// This machine runs v1, where cpuCgroup() is also checked for real; v2's files are as the kernel
// documents them (Documentation/admin-guide/cgroup-v2.rst).
import t from 'tap';
import { coresOf, cpuCgroup, locateCpuCgroup, throttlingOf } from '../lib/daemon/cgroup.js';
import { readFileSync } from 'node:fs';

const MOUNTS_V1 = [
  '25 30 0:22 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct',
  '26 30 0:23 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,memory',
].join('\n');
const MOUNTS_V2 = '28 22 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate';
const MOUNTS_V2_CONTAINER = '700 650 0:26 /system.slice/docker-ab12.scope /sys/fs/cgroup ro,nosuid - cgroup2 cgroup2 rw';

t.test('where the cpu cgroup is, in v1, v2 and a container', async (t) => {
  t.same(locateCpuCgroup('12:memory:/x\n4:cpu,cpuacct:/system.slice/job.service\n0::/system.slice/job.service', MOUNTS_V1), { version: 1, dir: '/sys/fs/cgroup/cpu,cpuacct/system.slice/job.service', mount: '/sys/fs/cgroup/cpu,cpuacct' });
  t.same(locateCpuCgroup('0::/user.slice/user-0.slice/session-3.scope', MOUNTS_V2), { version: 2, dir: '/sys/fs/cgroup/user.slice/user-0.slice/session-3.scope', mount: '/sys/fs/cgroup' });
  t.same(locateCpuCgroup('0::/system.slice/docker-ab12.scope', MOUNTS_V2_CONTAINER), { version: 2, dir: '/sys/fs/cgroup', mount: '/sys/fs/cgroup' }, 'the mount root is where the path begins');
  t.equal(locateCpuCgroup('0::/', ''), null, 'nothing mounted: nothing to read');
});

t.test('the limit and the throttling, in the words of each version', async (t) => {
  t.equal(coresOf(2, { max: '1000 100000\n' }), 0.01);
  t.equal(coresOf(2, { max: 'max 100000\n' }), null, 'v2 "max": no limit');
  t.equal(coresOf(1, { quota: '250000\n', period: '100000\n' }), 2.5);
  t.equal(coresOf(1, { quota: '-1\n', period: '100000\n' }), null, 'v1 -1: no limit');
  t.same(throttlingOf('usage_usec 9\nuser_usec 5\nsystem_usec 4\nnr_periods 200\nnr_throttled 150\nthrottled_usec 9000\n'), { periods: 200, throttled: 150 }, 'v2 cpu.stat');
  t.same(throttlingOf('nr_periods 12\nnr_throttled 3\nthrottled_time 5000000\n'), { periods: 12, throttled: 3 }, 'v1 cpu.stat');
  t.equal(throttlingOf(null), null);
});

t.test('on this machine: the cgroup this process is in, with the limit its files say', async (t) => {
  const cg = cpuCgroup();
  if (!cg) {
    t.pass("no cpu cgroup readable here");
    return;
  }
  const quota = Number(readFileSync(`${cg.dir}/${cg.version === 1 ? 'cpu.cfs_quota_us' : 'cpu.max'}`, 'utf8').split(/\s/)[0]);
  t.equal(cg.cores === null, !(quota > 0), `cgroup v${cg.version} at ${cg.dir}: ${cg.cores ?? 'no'} limit`);
});
