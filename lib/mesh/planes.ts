/**
 * Planes (rails): the data networks a run measures. The plane "default" is every host's
 * `address`; a host's [hosts.planes] name further ones. Pairs form only within a plane, and a
 * host without an address on a plane is left out of that plane only.
 */
import { isIP } from 'node:net';
import type { HostConfig } from '../inventory/types.js';
import { DEFAULT_PLANE } from '../shared/planes.js';

export { DEFAULT_PLANE };

/** A host's data address on a plane, or undefined when it has none there. */
export function planeAddress(host: HostConfig, plane: string): string | undefined {
  return plane === DEFAULT_PLANE ? host.address : host.planes[plane];
}

/** Every plane the inventory names, in the order hosts first name them. */
export function inventoryPlanes(hosts: HostConfig[]): string[] {
  return [...new Set(hosts.flatMap((h) => Object.keys(h.planes)))];
}

/**
 * --plane values -> the planes to measure: none is the default plane, "all" every named one.
 * An unknown name is a message naming the ones there are.
 */
export function resolvePlanes(hosts: HostConfig[], requested: readonly string[] | undefined): string[] | string {
  if (!requested || requested.length === 0) return [DEFAULT_PLANE];
  const known = inventoryPlanes(hosts);
  const out: string[] = [];
  for (const name of requested.flatMap((r) => r.split(',')).map((r) => r.trim()).filter(Boolean)) {
    if (name === 'all') {
      if (known.length === 0) return '--plane all: no host has [hosts.planes]; add e.g. planes = { rail1 = "10.2.0.1" } to the hosts, or drop --plane';
      out.push(...known);
    } else if (name === DEFAULT_PLANE || known.includes(name)) out.push(name);
    else return `--plane ${name}: no host has a plane "${name}"; the planes are ${[DEFAULT_PLANE, ...known].map((p) => `"${p}"`).join(', ')} (or "all")`;
  }
  return [...new Set(out)];
}

/** The hosts of a plane, with their address on it. */
export function planeMembers(hosts: HostConfig[], plane: string): { host: HostConfig; address: string }[] {
  return hosts.flatMap((host) => {
    const address = planeAddress(host, plane);
    return address === undefined ? [] : [{ host, address }];
  });
}

/**
 * Before connecting: what cannot work on a plane, naming the hosts. IPv4 and IPv6 hosts on one
 * plane cannot reach each other; a link-local IPv6 address needs a %zone, and the same zone on
 * every host of its plane, because a client reaches its peer's address through its own
 * interface of that name.
 */
export function planeProblems(hosts: HostConfig[], planes: readonly string[]): string[] {
  const out: string[] = [];
  for (const plane of planes) {
    const members = planeMembers(hosts, plane);
    const v4 = members.filter((m) => isIP(m.address) === 4);
    const v6 = members.filter((m) => isIP(stripZone(m.address)) === 6);
    if (v4.length && v6.length) {
      const show = (ms: typeof v4) => ms.slice(0, 3).map((m) => `${m.host.name} (${m.address})`).join(', ') + (ms.length > 3 ? ` and ${ms.length - 3} more` : '');
      out.push(
        `plane "${plane}" mixes address families: IPv4 ${show(v4)} cannot reach IPv6 ${show(v6)}, ` +
          `so ${v4.length * v6.length * 2} pairs would fail; give every host of the plane an address of one family, or put the IPv6 ones on a plane of their own`,
      );
    }
    const linkLocal = v6.filter((m) => /^fe[89ab]/i.test(m.address));
    for (const m of linkLocal.filter((x) => !x.address.includes('%'))) {
      out.push(`${m.host.name}: ${m.address} on plane "${plane}" is link-local and needs its interface, e.g. "${m.address}%eth1"`);
    }
    const zones = new Set(linkLocal.map((m) => m.address.split('%')[1]).filter(Boolean));
    if (zones.size > 1) out.push(`plane "${plane}": link-local addresses name different interfaces (${[...zones].join(', ')}); a client reaches a peer's link-local address through its own interface of the same name, so every host of the plane needs the same one (or use global addresses)`);
  }
  return out;
}

function stripZone(address: string): string {
  return address.split('%')[0]!;
}
