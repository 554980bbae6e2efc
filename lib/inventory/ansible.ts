/**
 * The hosts of an existing Ansible inventory (INI or YAML), as a meshperf inventory: a cluster
 * already written down for Ansible need not be written again. Per host: `ansible_host` is the SSH
 * target (`ssh_host`), `ansible_user`, `ansible_port` and `ansible_ssh_private_key_file` its login,
 * and its groups its labels. The data address is `meshperf_address`, else the SSH target; planes
 * are `meshperf_plane_<name>` variables. Variables of groups apply to their hosts, a child
 * group's over its parent's, a host's own over all.
 */
import { parse as parseYaml } from 'yaml';
import { InventoryError } from '../shared/errors.js';

type Vars = Record<string, unknown>;

interface Group {
  hosts: Map<string, Vars>;
  vars: Vars;
  children: string[];
  /** Where it was declared, for messages (INI line). */
  line?: number;
}

/** The groups of an Ansible inventory, by name ("all" holds every group without a parent). */
type Groups = Map<string, Group>;

const group = (groups: Groups, name: string): Group => {
  if (!groups.has(name)) groups.set(name, { hosts: new Map(), vars: {}, children: [] });
  return groups.get(name)!;
};

/** Ansible's host ranges: "node[01:10]", "r[a:c]", with an optional step "[1:9:2]". */
export function expandAnsibleRange(pattern: string): string[] {
  const m = /^(.*)\[([0-9a-z]+):([0-9a-z]+)(?::(\d+))?\](.*)$/.exec(pattern);
  if (!m) return [pattern];
  const [, pre, a, b, step = '1', post] = m as unknown as [string, string, string, string, string, string];
  const out: string[] = [];
  if (/^\d+$/.test(a)) {
    for (let n = Number(a); n <= Number(b); n += Number(step)) out.push(pre + String(n).padStart(a.length, '0') + post);
  } else {
    for (let c = a.charCodeAt(0); c <= b.charCodeAt(0); c += Number(step)) out.push(pre + String.fromCharCode(c) + post);
  }
  return out.flatMap(expandAnsibleRange);
}

/** "a=1 b='x y'" -> { a: "1", b: "x y" } (Ansible INI host and vars lines). */
function keyValues(text: string): Vars {
  const out: Vars = {};
  for (const m of text.matchAll(/(\w+)=("[^"]*"|'[^']*'|\S+)/g)) out[m[1]!] = m[2]!.replace(/^(["'])(.*)\1$/, '$2');
  return out;
}

export function parseAnsibleIni(text: string, source: string): Groups {
  const groups: Groups = new Map();
  let section = { name: 'ungrouped', kind: 'hosts' as 'hosts' | 'vars' | 'children' };
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/^\s*[#;].*$/, '').trim();
    if (!line) return;
    const head = /^\[([^\]:]+)(?::(vars|children))?\]$/.exec(line);
    if (head) {
      section = { name: head[1]!, kind: (head[2] as 'vars' | 'children' | undefined) ?? 'hosts' };
      group(groups, section.name).line ??= i + 1;
      return;
    }
    const g = group(groups, section.name);
    if (section.kind === 'vars') {
      const kv = /^(\w+)\s*=\s*(.*)$/.exec(line);
      if (!kv) throw new InventoryError(source, [`line ${i + 1}: "${line}" is not key=value in [${section.name}:vars]`]);
      g.vars[kv[1]!] = kv[2]!.replace(/^(["'])(.*)\1$/, '$2');
    } else if (section.kind === 'children') {
      g.children.push(line);
    } else {
      const [pattern = '', ...rest] = line.split(/\s+/);
      const vars = keyValues(rest.join(' '));
      // "host:2222" is Ansible's way to give a port in INI.
      const [name, port] = /^[^:]+:\d+$/.test(pattern) ? pattern.split(':') : [pattern, undefined];
      for (const h of expandAnsibleRange(name!)) g.hosts.set(h, { ...(port ? { ansible_port: port } : {}), ...vars });
    }
  });
  return groups;
}

export function parseAnsibleYaml(text: string, source: string): Groups {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new InventoryError(source, [`YAML syntax error: ${(err as Error).message.split('\n')[0]}`]);
  }
  const groups: Groups = new Map();
  const walk = (name: string, node: unknown) => {
    const g = group(groups, name);
    const n = (node ?? {}) as { hosts?: Record<string, Vars | null>; vars?: Vars; children?: Record<string, unknown> };
    for (const [h, vars] of Object.entries(n.hosts ?? {})) for (const x of expandAnsibleRange(h)) g.hosts.set(x, { ...(g.hosts.get(x) ?? {}), ...(vars ?? {}) });
    Object.assign(g.vars, n.vars ?? {});
    for (const [child, sub] of Object.entries(n.children ?? {})) {
      g.children.push(child);
      walk(child, sub);
    }
  };
  if (typeof doc !== 'object' || doc === null) throw new InventoryError(source, ['an Ansible YAML inventory is a mapping of groups (all: { hosts: …, children: … })']);
  for (const [name, node] of Object.entries(doc)) walk(name, node);
  return groups;
}

/**
 * Every host with its variables merged (group vars by depth, then its own) and its groups. The
 * result is a raw meshperf inventory (what TOML parses to), checked like any other.
 */
export function ansibleToInventory(groups: Groups): { hosts: Record<string, unknown>[] } {
  const depth = new Map<string, number>();
  const parents = new Map<string, string[]>();
  for (const [name, g] of groups) for (const c of g.children) parents.set(c, [...(parents.get(c) ?? []), name]);
  const depthOf = (name: string, seen = new Set<string>()): number => {
    if (depth.has(name)) return depth.get(name)!;
    if (seen.has(name)) return 0;
    seen.add(name);
    const d = Math.max(0, ...(parents.get(name) ?? []).map((p) => depthOf(p, seen) + 1));
    depth.set(name, d);
    return d;
  };
  const ancestors = (name: string, seen = new Set<string>()): string[] => {
    if (seen.has(name)) return [];
    seen.add(name);
    return [name, ...(parents.get(name) ?? []).flatMap((p) => ancestors(p, seen))];
  };
  const hosts = new Map<string, { own: Vars; groups: Set<string> }>();
  for (const [name, g] of groups) {
    for (const [h, vars] of g.hosts) {
      const entry = hosts.get(h) ?? { own: {}, groups: new Set<string>() };
      Object.assign(entry.own, vars);
      for (const a of ancestors(name)) entry.groups.add(a);
      hosts.set(h, entry);
    }
  }
  return {
    hosts: [...hosts].map(([name, { own, groups: member }]) => {
      const ordered = [...member, 'all'].filter((x, i, a) => a.indexOf(x) === i).sort((a, b) => depthOf(a) - depthOf(b));
      const v: Vars = Object.assign({}, groups.get('all')?.vars, ...ordered.map((g) => groups.get(g)?.vars ?? {}), own);
      const str = (k: string) => (v[k] === undefined ? undefined : String(v[k]));
      const sshHost = str('ansible_host') ?? name;
      const planes = Object.fromEntries(Object.entries(v).filter(([k]) => k.startsWith('meshperf_plane_')).map(([k, x]) => [k.slice('meshperf_plane_'.length), String(x)]));
      const out: Record<string, unknown> = { name, address: str('meshperf_address') ?? sshHost, ssh_host: sshHost };
      if (str('ansible_user')) out.user = str('ansible_user');
      if (str('ansible_port')) out.port = Number(str('ansible_port'));
      if (str('ansible_ssh_private_key_file')) out.identity_file = str('ansible_ssh_private_key_file');
      if (Object.keys(planes).length) out.planes = planes;
      const labels = [...member].filter((g) => g !== 'all' && g !== 'ungrouped').sort();
      if (labels.length) out.labels = labels;
      return out;
    }),
  };
}

/** Is this file an Ansible inventory rather than meshperf's TOML? By its name. */
export function isAnsibleFile(file: string): 'ini' | 'yaml' | null {
  if (/\.(ya?ml)$/i.test(file)) return 'yaml';
  if (/\.ini$/i.test(file) || /(^|\/)hosts$/.test(file)) return 'ini';
  return null;
}
