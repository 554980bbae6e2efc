/**
 * The lab's network: N namespaces, each with a veth into one bridge in the root namespace, where
 * the controller lives; with rails, a management bridge and one bridge per data rail; with a
 * bastion, the management network is reached only through it. Addresses come from
 * 198.18.0.0/15 (RFC 2544, reserved for benchmarking), IPv6 rails from 2001:2::/48 (RFC 5180).
 */
import { LabError } from '../shared/errors.js';
import { run, tryRun } from './exec.js';

export interface LabHost {
  name: string;
  namespace: string;
  /** The root namespace's end of its management veth (eth0 inside). */
  veth: string;
  /** Management address: where its sshd listens (and, without rails, its data address too). */
  address: string;
  /** With --ipv6, management is dual-stack: its sshd also listens here. */
  address6?: string;
  /** Its data rails: eth1, eth2, ... inside, one bridge each. */
  rails: { plane: string; device: string; veth: string; address: string }[];
}

export interface LabNetwork {
  /** e.g. "198.18.0" for 198.18.0.0/24: the management network. */
  prefix: string;
  /** With --ipv6: the management network's IPv6 subnet, beside its IPv4 one. */
  mgmt6?: string;
  bridge: string;
  /** Data rails beside the management network, each on its own bridge. */
  rails: { plane: string; bridge: string; subnet: string; family: 4 | 6 }[];
  /**
   * A bastion: the only way in. Its front address is on a link of its own to the root
   * namespace; its inner one on the management bridge, where the root namespace then has none.
   */
  bastion?: {
    namespace: string;
    veth: string;
    innerVeth: string;
    address: string;
    front: string;
    frontPrefix: string;
    inner: string;
    /** With IPv6 rails, the front link is dual-stack: the bastion is also reachable at address6. */
    address6?: string;
    front6?: string;
  };
  hosts: LabHost[];
}

export { LabError };

export interface LayoutOptions {
  /** Data rails beside the management network (0: one network for SSH and data). */
  rails?: number;
  /** Rails on IPv6 (2001:2::/48, RFC 5180's benchmarking range) instead of IPv4. */
  ipv6?: boolean;
  bastion?: boolean;
}

/** The /24s a layout takes: management, one per IPv4 rail, one for the bastion's front link. */
export function subnetsNeeded(o: LayoutOptions): number {
  return 1 + (o.ipv6 ? 0 : (o.rails ?? 0)) + (o.bastion ? 1 : 0);
}

/**
 * "198.18.0.0/24" -> the lab's names and addresses; only /24s inside 198.18.0.0/15. Rails and
 * the bastion's front link take the /24s after it.
 */
export function labLayout(subnet: string, count: number, o: LayoutOptions = {}): LabNetwork {
  const m = /^198\.(18|19)\.(\d{1,3})\.0\/24$/.exec(subnet);
  if (!m || Number(m[2]) > 255) throw new LabError(`--subnet ${subnet}: use a /24 inside 198.18.0.0/15, e.g. 198.18.0.0/24`);
  if (!Number.isInteger(count) || count < 2 || count > 200) throw new LabError(`--hosts ${count}: use 2 to 200 hosts`);
  const rails = o.rails ?? 0;
  if (!Number.isInteger(rails) || rails < 0 || rails > 4) throw new LabError(`--planes ${rails}: use 0 to 4 data rails`);
  const index = (Number(m[1]) - 18) * 256 + Number(m[2]);
  if (index + subnetsNeeded(o) > 512) throw new LabError(`--subnet ${subnet}: the lab needs ${subnetsNeeded(o)} /24s from there, past 198.19.255.0/24; choose a lower one`);
  const tag = index.toString(16).padStart(3, '0');
  const nth = (k: number) => `198.${18 + ((index + k) >> 8)}.${(index + k) & 255}`;
  const prefix = nth(0);
  const railNets = Array.from({ length: rails }, (_, k) => ({
    plane: `rail${k + 1}`,
    bridge: `mpbr${tag}r${k + 1}`,
    subnet: o.ipv6 ? `2001:2:0:${tag}${k + 1}::/64` : `${nth(k + 1)}.0/24`,
    family: (o.ipv6 ? 6 : 4) as 4 | 6,
  }));
  const railAddress = (k: number, i: number) => (o.ipv6 ? `2001:2:0:${tag}${k + 1}::${(11 + i).toString(16)}` : `${nth(k + 1)}.${11 + i}`);
  const front = nth(subnetsNeeded(o) - 1);
  return {
    prefix,
    ...(o.ipv6 ? { mgmt6: `2001:2:0:${tag}0::/64` } : {}),
    bridge: `mpbr${tag}`,
    rails: railNets,
    ...(o.bastion
      ? {
          bastion: {
            namespace: `meshperf-${tag}-bastion`,
            veth: `mpv${tag}bf`,
            innerVeth: `mpv${tag}bi`,
            address: `${front}.2`,
            front: `${front}.1`,
            frontPrefix: front,
            inner: `${prefix}.2`,
            ...(o.ipv6 ? { address6: `2001:2:0:${tag}f::2`, front6: `2001:2:0:${tag}f::1` } : {}),
          },
        }
      : {}),
    hosts: Array.from({ length: count }, (_, i) => ({
      name: `h${i + 1}`,
      namespace: `meshperf-${tag}-h${i + 1}`,
      veth: `mpv${tag}h${i + 1}`,
      address: `${prefix}.${11 + i}`,
      ...(o.ipv6 ? { address6: `2001:2:0:${tag}0::${(11 + i).toString(16)}` } : {}),
      rails: railNets.map((r, k) => ({ plane: r.plane, device: `eth${k + 1}`, veth: `mpv${tag}h${i + 1}r${k + 1}`, address: railAddress(k, i) })),
    })),
  };
}

/** The IPv4 /24 prefixes a lab holds ("198.18.0"), to check that none is in use here. */
function prefixes(net: LabNetwork): string[] {
  return [net.prefix, ...net.rails.filter((r) => r.family === 4).map((r) => r.subnet.replace(/\.0\/24$/, '')), ...(net.bastion ? [net.bastion.frontPrefix] : [])];
}

/**
 * Why a lab's network cannot be built because something already uses its names or addresses
 * (another lab on the same /24, most likely), or null when all is free.
 */
export async function networkInUse(net: LabNetwork): Promise<string | null> {
  const links = await run('ip', ['-o', 'link', 'show']).catch(() => '');
  for (const bridge of [net.bridge, ...net.rails.map((r) => r.bridge)]) {
    if (new RegExp(`^\\d+: ${bridge}[:@]`, 'm').test(links)) return `the bridge ${bridge} exists`;
  }
  const namespaces = await run('ip', ['netns', 'list']).catch(() => '');
  const ours = [...net.hosts.map((h) => h.namespace), ...(net.bastion ? [net.bastion.namespace] : [])].filter((n) => new RegExp(`^${n}( |$)`, 'm').test(namespaces));
  if (ours.length) return `namespace ${ours[0]} exists`;
  const addrs = await run('ip', ['-o', '-4', 'addr', 'show']).catch(() => '');
  const routes = await run('ip', ['-4', 'route', 'show', 'table', 'all']).catch(() => '');
  for (const p of prefixes(net)) {
    const taken = new RegExp(`inet ${p.replace(/\./g, '\\.')}\\.\\d+/`).exec(addrs);
    if (taken) return `an address of ${p}.0/24 is configured here (${taken[0].slice(5, -1)})`;
    if (new RegExp(`^(unreachable )?${p.replace(/\./g, '\\.')}\\.0/24`, 'm').test(routes)) return `a route to ${p}.0/24 exists here`;
  }
  return null;
}

/** Build the namespaces, veths, bridges and routes of a layout. */
export async function networkUp(net: LabNetwork): Promise<void> {
  await run('ip', ['link', 'add', net.bridge, 'type', 'bridge']);
  // With a bastion the management network is reached only through it.
  if (!net.bastion) await run('ip', ['addr', 'add', `${net.prefix}.1/24`, 'dev', net.bridge]);
  else await run('ip', ['route', 'add', 'unreachable', `${net.prefix}.0/24`]);
  if (net.mgmt6 && !net.bastion) await run('ip', ['addr', 'add', net.mgmt6.replace('::/64', '::1/64'), 'dev', net.bridge, 'nodad']);
  else if (net.mgmt6) await run('ip', ['-6', 'route', 'add', 'unreachable', net.mgmt6]);
  await run('ip', ['link', 'set', net.bridge, 'up']);
  for (const r of net.rails) {
    await run('ip', ['link', 'add', r.bridge, 'type', 'bridge']);
    await run('ip', ['link', 'set', r.bridge, 'up']);
    // The root namespace has no address on a rail: traffic to it must never take the default route out.
    await run('ip', [`-${r.family}`, 'route', 'add', 'unreachable', r.subnet]);
  }
  for (const h of net.hosts) {
    await run('ip', ['netns', 'add', h.namespace]);
    await plug(h.namespace, h.veth, 'eth0', net.bridge, `${h.address}/24`);
    if (h.address6) await run('ip', ['-n', h.namespace, 'addr', 'add', `${h.address6}/64`, 'dev', 'eth0', 'nodad']);
    for (const r of h.rails) {
      const rail = net.rails.find((x) => x.plane === r.plane)!;
      await plug(h.namespace, r.veth, r.device, rail.bridge, `${r.address}/${rail.family === 6 ? 64 : 24}`);
    }
    await run('ip', ['-n', h.namespace, 'link', 'set', 'lo', 'up']);
    // Each run starts fresh: no TCP metrics (ssthresh) cached from an earlier run to the same peer.
    await run('ip', ['netns', 'exec', h.namespace, 'sysctl', '-qw', 'net.ipv4.tcp_no_metrics_save=1']);
  }
  if (net.bastion) {
    const b = net.bastion;
    await run('ip', ['netns', 'add', b.namespace]);
    await run('ip', ['link', 'add', b.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', b.namespace]);
    await run('ip', ['addr', 'add', `${b.front}/24`, 'dev', b.veth]);
    await run('ip', ['link', 'set', b.veth, 'up']);
    await run('ip', ['-n', b.namespace, 'addr', 'add', `${b.address}/24`, 'dev', 'eth0']);
    if (b.address6 && b.front6) {
      await run('ip', ['addr', 'add', `${b.front6}/64`, 'dev', b.veth, 'nodad']);
      await run('ip', ['-n', b.namespace, 'addr', 'add', `${b.address6}/64`, 'dev', 'eth0', 'nodad']);
    }
    await run('ip', ['-n', b.namespace, 'link', 'set', 'eth0', 'up']);
    await plug(b.namespace, b.innerVeth, 'eth1', net.bridge, `${b.inner}/24`);
    await run('ip', ['-n', b.namespace, 'link', 'set', 'lo', 'up']);
  }
}

/** A veth from the bridge into a namespace, named `device` there, with its address. */
async function plug(namespace: string, veth: string, device: string, bridge: string, cidr: string): Promise<void> {
  await run('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', device, 'netns', namespace]);
  await run('ip', ['link', 'set', veth, 'master', bridge, 'up']);
  // nodad: an IPv6 address is usable at once, not after duplicate address detection.
  await run('ip', ['-n', namespace, 'addr', 'add', cidr, 'dev', device, ...(cidr.includes(':') ? ['nodad'] : [])]);
  await run('ip', ['-n', namespace, 'link', 'set', device, 'up']);
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
  const rails = net.rails ?? []; // lab.json of an older lab has none
  const namespaces = [...net.hosts.map((h) => ({ namespace: h.namespace, veths: [h.veth, ...(h.rails ?? []).map((r) => r.veth)] }))];
  if (net.bastion) namespaces.push({ namespace: net.bastion.namespace, veths: [net.bastion.veth, net.bastion.innerVeth] });
  for (const n of namespaces) {
    await killAll(n.namespace);
    await tryRun('ip', ['netns', 'del', n.namespace]);
    for (const v of n.veths) await tryRun('ip', ['link', 'del', v]);
  }
  for (const r of rails) {
    await tryRun('ip', ['link', 'del', r.bridge]);
    await tryRun('ip', [`-${r.family}`, 'route', 'del', 'unreachable', r.subnet]);
  }
  if (net.bastion) await tryRun('ip', ['route', 'del', 'unreachable', `${net.prefix}.0/24`]);
  if (net.bastion && net.mgmt6) await tryRun('ip', ['-6', 'route', 'del', 'unreachable', net.mgmt6]);
  await tryRun('ip', ['link', 'del', net.bridge]);
}
