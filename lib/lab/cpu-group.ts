/**
 * A lab's hosts share this machine's cores with the controller, and every SSH login is a session
 * of its own, which Linux's autogroup scheduling weighs as much as the controller's whole session
 * (nice cannot help: it only orders processes within a session). With 200 busy hosts the
 * controller got 1/200 of the machine and fell silent for 16 s, long enough for the daemons to
 * give up on it; on a real cluster it has a machine of its own. So a lab puts its sshds, and with
 * them every login, daemon and iperf3 they start, in one CPU cgroup: together they weigh as much
 * as one session of this machine. Where no CPU cgroup can be made, the lab runs without one.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** The cgroup (v1) or cgroup2 hierarchy that has the cpu controller, if any. */
function cpuHierarchy(): string | null {
  if (existsSync('/sys/fs/cgroup/cpu/cpu.shares')) return '/sys/fs/cgroup/cpu';
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) return '/sys/fs/cgroup';
  return null;
}

/** Make the lab's group (named after its directory); its path, or null where there is none. */
export async function makeCpuGroup(labDir: string): Promise<string | null> {
  const root = cpuHierarchy();
  if (!root) return null;
  const group = path.join(root, `meshperf-lab-${createHash('sha256').update(labDir).digest('hex').slice(0, 12)}`);
  try {
    // cgroup2 weighs a child only once the cpu controller is enabled for its parent's children.
    if (root === '/sys/fs/cgroup' && !(await readFile(path.join(root, 'cgroup.subtree_control'), 'utf8')).includes('cpu')) {
      await writeFile(path.join(root, 'cgroup.subtree_control'), '+cpu');
    }
    await mkdir(group, { recursive: true });
    return group;
  } catch {
    return null;
  }
}

/** Move a process (an sshd: what it starts is born inside) into the group. */
export async function joinCpuGroup(group: string | null | undefined, pid: number): Promise<void> {
  if (group) await writeFile(path.join(group, 'cgroup.procs'), String(pid)).catch(() => {});
}

/** Remove the group once its processes are gone (they may take a moment to exit). */
export async function removeCpuGroup(group: string | null | undefined): Promise<void> {
  if (!group || !existsSync(group)) return;
  for (let i = 0; i < 50; i++) {
    try {
      return await rmdir(group);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EBUSY') return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
