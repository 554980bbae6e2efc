/** One line of /proc/<pid>/mountinfo, as proc(5) describes it: what the daemon and the lab need of it. */
export interface Mount {
  /** The mount's root within its filesystem (a cgroup path, for a cgroup mount). */
  root: string;
  point: string;
  fstype: string;
  /** Superblock options, e.g. ["rw", "cpu", "cpuacct"] for a v1 cgroup hierarchy. */
  options: string[];
}

export function parseMountinfo(text: string): Mount[] {
  return text
    .split('\n')
    .filter((l) => l.includes(' - '))
    .map((l) => {
      const [pre, post] = l.split(' - ') as [string, string];
      const f = pre.split(' ');
      const g = post.split(' ');
      return { root: f[3] ?? '', point: f[4] ?? '', fstype: g[0] ?? '', options: (g[2] ?? '').split(',') };
    });
}
