/**
 * The lab's network: N namespaces, each with a veth into one bridge in the root namespace, where
 * the controller lives. Addresses come from 198.18.0.0/15 (RFC 2544, reserved for benchmarking).
 */
import { LabError } from '../shared/errors.js';
import { run, tryRun } from './exec.js';

export interface LabNetwork {
  /** e.g. "198.18.0" for 198.18.0.0/24. */
  prefix: string;
  bridge: string;
  hosts: { name: string; namespace: string; veth: string; address: string }[];
}

export { LabError };

/** "198.18.0.0/24" -> the lab's names and addresses; only /24s inside 198.18.0.0/15. */
export function labLayout(subnet: string, count: number): LabNetwork {
  const m = /^198\.(18|19)\.(\d{1,3})\.0\/24$/.exec(subnet);
  if (!m || Number(m[2]) > 255) throw new LabError(`--subnet ${subnet}: use a /24 inside 198.18.0.0/15, e.g. 198.18.0.0/24`);
  if (!Number.isInteger(count) || count < 2 || count > 200) throw new LabError(`--hosts ${count}: use 2 to 200 hosts`);
  const tag = ((Number(m[1]) - 18) * 256 + Number(m[2])).toString(16).padStart(3, '0');
  const prefix = `198.${m[1]}.${m[2]}`;
  return {
    prefix,
    bridge: `mpbr${tag}`,
    hosts: Array.from({ length: count }, (_, i) => ({
      name: `h${i + 1}`,
      namespace: `meshperf-${tag}-h${i + 1}`,
      veth: `mpv${tag}h${i + 1}`,
      address: `${prefix}.${11 + i}`,
    })),
  };
}

/**
 * Why a lab's network cannot be built because something already uses its names or addresses
 * (another lab on the same /24, most likely), or null when all is free.
 */
export async function networkInUse(net: LabNetwork): Promise<string | null> {
  const links = await run('ip', ['-o', 'link', 'show']).catch(() => '');
  if (new RegExp(`^\\d+: ${net.bridge}[:@]`, 'm').test(links)) return `the bridge ${net.bridge} exists`;
  const namespaces = await run('ip', ['netns', 'list']).catch(() => '');
  const ours = net.hosts.map((h) => h.namespace).filter((n) => new RegExp(`^${n}( |$)`, 'm').test(namespaces));
  if (ours.length) return `namespace ${ours[0]} exists`;
  const addrs = await run('ip', ['-o', '-4', 'addr', 'show']).catch(() => '');
  const taken = new RegExp(`inet ${net.prefix.replace(/\./g, '\\.')}\\.\\d+/`).exec(addrs);
  if (taken) return `an address of ${net.prefix}.0/24 is configured here (${taken[0].slice(5, -1)})`;
  return null;
}

export async function networkUp(net: LabNetwork): Promise<void> {
  await run('ip', ['link', 'add', net.bridge, 'type', 'bridge']);
  await run('ip', ['addr', 'add', `${net.prefix}.1/24`, 'dev', net.bridge]);
  await run('ip', ['link', 'set', net.bridge, 'up']);
  for (const h of net.hosts) {
    await run('ip', ['netns', 'add', h.namespace]);
    await run('ip', ['link', 'add', h.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.namespace]);
    await run('ip', ['link', 'set', h.veth, 'master', net.bridge, 'up']);
    await run('ip', ['-n', h.namespace, 'addr', 'add', `${h.address}/24`, 'dev', 'eth0']);
    await run('ip', ['-n', h.namespace, 'link', 'set', 'eth0', 'up']);
    await run('ip', ['-n', h.namespace, 'link', 'set', 'lo', 'up']);
    // Each run starts fresh: no TCP metrics (ssthresh) cached from an earlier run to the same peer.
    await run('ip', ['netns', 'exec', h.namespace, 'sysctl', '-qw', 'net.ipv4.tcp_no_metrics_save=1']);
  }
}

/** Every process still inside a lab namespace. */
export async function namespacePids(namespace: string): Promise<number[]> {
  const out = await run('ip', ['netns', 'pids', namespace]).catch(() => '');
  return out.split(/\s+/).filter(Boolean).map(Number);
}

/**
 * SIGKILL everything in a namespace and wait (up to 2 s) until the kernel has taken it away, so
 * that whoever checks right after a lab is down finds nothing of it still running.
 */
async function killAll(namespace: string): Promise<void> {
  for (let tries = 0; tries < 40; tries++) {
    const pids = await namespacePids(namespace);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Kill whatever runs in the namespaces, then remove them and the bridge. Safe to run twice. */
export async function networkDown(net: LabNetwork): Promise<void> {
  for (const h of net.hosts) {
    await killAll(h.namespace);
    await tryRun('ip', ['netns', 'del', h.namespace]);
    await tryRun('ip', ['link', 'del', h.veth]);
  }
  await tryRun('ip', ['link', 'del', net.bridge]);
}
