/**
 * The emulated cluster: `meshperf lab up` builds N hosts (network namespaces, each with its own
 * sshd, host key and hostname) and writes an inventory for them; `lab down` removes every trace.
 * Without rails, one bridge carries SSH and data. With rails (--planes), sshd listens only on
 * a management network and the data goes over rails of their own; with --bastion, hosts are
 * reached only through a jump host, by the aliases of an OpenSSH config the lab writes. Needs
 * root on Linux. State lives in <dir>/lab.json so down works from any shell.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { LabError, LabNetwork, labLayout, LayoutOptions, networkDown, networkInUse, networkUp, subnetsNeeded } from './network.js';
import { keygen, sshdConfig, startSshd, writeSecret } from './sshd.js';
import { run } from './exec.js';
import { knownNeighbours, makeNeighbourRoom, restoreNeighbourRoom } from './neighbours.js';

export { LabError };
export { SSHD } from './sshd.js';

export const DEFAULT_SUBNET = '198.18.0.0/24';

export interface LabState {
  dir: string;
  subnet: string;
  network: LabNetwork;
  sshdPids: number[];
  inventory: string;
  /** With a bastion: the OpenSSH client config naming every host (and the bastion) by alias. */
  sshConfig?: string;
}

export interface LabUpOptions extends LayoutOptions {
  hosts: number;
  dir: string;
  subnet?: string;
  /** How many hosts (the last ones) have a `node` on their PATH that does not run. */
  noNode?: number;
  /** Extra lines for the inventory's [test] table, e.g. { duration: 5 }. */
  test?: Record<string, string | number>;
}

const stateFile = (dir: string) => path.join(dir, 'lab.json');

export async function labUp(opts: LabUpOptions): Promise<LabState> {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) {
    throw new LabError('meshperf lab needs root on Linux (network namespaces and sshd)');
  }
  const dir = path.resolve(opts.dir);
  if (existsSync(stateFile(dir))) throw new LabError(`a lab is already up in ${dir}; run: meshperf lab down --dir ${dir}`);
  const subnet = opts.subnet ?? DEFAULT_SUBNET;
  const network = labLayout(subnet, opts.hosts, opts);
  const noNode = opts.noNode ?? 0;
  if (!Number.isInteger(noNode) || noNode < 0 || noNode > opts.hosts) throw new LabError(`--without-node ${noNode}: use 0 to ${opts.hosts} hosts`);
  // Another lab's subnet: refuse before building anything, so that nothing of it is touched.
  const busy = await networkInUse(network);
  if (busy) throw new LabError(`--subnet ${subnet} is in use: ${busy}; choose another --subnet, or take that lab down first`);
  const state: LabState = { dir, subnet, network, sshdPids: [], inventory: path.join(dir, 'hosts.toml') };
  await mkdir(dir, { recursive: true });
  // Saved before anything is built, so that `lab down` can undo a half-built lab.
  await saveState(state);
  try {
    // Every host's neighbours on every network, counted together by the kernel.
    await makeNeighbourRoom(opts.hosts * opts.hosts * (1 + (opts.rails ?? 0)));
    await networkUp(network);
    await knownNeighbours(network);
    const clientKey = path.join(dir, 'id_ed25519');
    await writeSecret(path.join(dir, 'authorized_keys'), (await keygen(clientKey, 'meshperf-lab-client')) + '\n');
    const known: string[] = [];
    // With rails, each host resolves every host's rail addresses by name: "h2-rail1".
    const hostsFile = network.rails.length ? path.join(dir, 'etc-hosts') : undefined;
    if (hostsFile) {
      const lines = network.hosts.flatMap((h) => h.rails.map((r) => `${r.address} ${h.name}-${r.plane}`));
      await writeFile(hostsFile, ['127.0.0.1 localhost', '::1 localhost', ...lines, ''].join('\n'));
    }
    const sshd = async (name: string, namespace: string, addresses: string[], brokenNode = false) => {
      const { dir: hdir, home, config, log } = hostFiles(dir, name);
      await mkdir(hdir, { recursive: true });
      const hostKey = path.join(hdir, 'ssh_host_ed25519_key');
      const pub = await keygen(hostKey, `meshperf-lab-${name}`);
      for (const a of addresses) known.push(`${a} ${pub.split(' ').slice(0, 2).join(' ')}`);
      await writeFile(config, sshdConfig({ addresses, hostKey, authorizedKeys: path.join(dir, 'authorized_keys') }));
      await mkdir(home, { mode: 0o700 });
      state.sshdPids.push(await startSshd({ namespace, name, config, log, brokenNode, hostsFile, home }));
      await saveState(state);
    };
    const b = network.bastion;
    if (b) await sshd('bastion', b.namespace, [b.address, b.inner, ...(b.address6 ? [b.address6] : [])]);
    for (const [i, h] of network.hosts.entries()) await sshd(h.name, h.namespace, [h.address, ...(h.address6 ? [h.address6] : [])], i >= network.hosts.length - noNode);
    await writeFile(path.join(dir, 'known_hosts'), known.join('\n') + '\n');
    if (b) {
      state.sshConfig = path.join(dir, 'ssh_config');
      await writeFile(state.sshConfig, sshConfigText(state, clientKey));
    }
    await writeFile(state.inventory, inventoryToml(state, clientKey, opts.test ?? {}));
    await saveState(state);
    return state;
  } catch (err) {
    await labDown(dir).catch(() => {});
    throw err;
  }
}

/**
 * Where a lab host's own files are, under the lab's directory: its sshd's config and log, and the
 * home its logins get (bound on root's home in its mount namespace, so hosts share no rc-file lock
 * and no cache).
 */
export function hostFiles(labDir: string, name: string): { dir: string; home: string; config: string; log: string } {
  const dir = path.join(labDir, name);
  return { dir, home: path.join(dir, 'home'), config: path.join(dir, 'sshd_config'), log: path.join(dir, 'sshd.log') };
}

/** The first /24 of 198.18.0.0/15 from which a lab of this shape finds every /24 it needs free. */
export async function pickFreeSubnet(shape: LayoutOptions = {}): Promise<string> {
  for (let i = 0; i + subnetsNeeded(shape) <= 512; i++) {
    const subnet = `198.${18 + (i >> 8)}.${i & 255}.0/24`;
    if (!(await networkInUse(labLayout(subnet, 2, shape)))) return subnet;
  }
  throw new LabError('no free /24s of 198.18.0.0/15 for this lab here; take a lab down first');
}

/** Stop every sshd and process of the lab, remove its network and its directory. */
export async function labDown(dirArg: string): Promise<void> {
  const dir = path.resolve(dirArg);
  let state: LabState;
  try {
    state = JSON.parse(await readFile(stateFile(dir), 'utf8')) as LabState;
  } catch {
    throw new LabError(`no lab in ${dir} (no lab.json there)`);
  }
  for (const pid of state.sshdPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await networkDown(state.network);
  // The limits go back once no lab is left that may need them.
  if (!(await anyLabNamespace())) await restoreNeighbourRoom();
  await rm(dir, { recursive: true, force: true });
}

async function anyLabNamespace(): Promise<boolean> {
  const out = await run('ip', ['netns', 'list']).catch(() => '');
  return /^meshperf-/m.test(out);
}

async function saveState(state: LabState): Promise<void> {
  await writeFile(stateFile(state.dir), JSON.stringify(state, null, 2) + '\n');
}

const q = (v: string | number) => (typeof v === 'number' ? String(v) : JSON.stringify(v));

/**
 * The lab's inventory. With rails, `address` is the first rail, `ssh_host` the management
 * address (or, behind the bastion, the host's alias in the lab's ssh_config), and every rail is a
 * plane.
 */
function inventoryToml(state: LabState, identity: string, test: Record<string, string | number>): string {
  const { network } = state;
  const ssh = state.sshConfig
    ? [`config = ${q(state.sshConfig)}`, '# user, key, known_hosts and the jump host come from that file']
    : ['user = "root"', `identity_file = ${q(identity)}`, `known_hosts = ${q(path.join(state.dir, 'known_hosts'))}`];
  const host = (h: LabNetwork['hosts'][number]) => {
    if (h.rails.length === 0) return [`address = "${h.address}"`];
    return [
      `address = "${h.rails[0]!.address}"`,
      `ssh_host = "${state.sshConfig ? h.name : h.address}"`,
      `planes = { ${h.rails.map((r) => `${r.plane} = "${r.address}"`).join(', ')} }`,
    ];
  };
  return [
    `# Written by meshperf lab up for the emulated cluster in ${state.dir}`,
    '[ssh]',
    ...ssh,
    '',
    '[test]',
    ...Object.entries({ duration: 5, ...test }).map(([k, v]) => `${k} = ${q(v)}`),
    '',
    ...network.hosts.flatMap((h) => ['[[hosts]]', `name = "${h.name}"`, ...host(h), '']),
  ].join('\n');
}

/** The OpenSSH client config of a lab with a bastion: every host by its name, through the bastion. */
function sshConfigText(state: LabState, identity: string): string {
  const b = state.network.bastion!;
  return [
    `# Written by meshperf lab up for the emulated cluster in ${state.dir}`,
    'Host bastion',
    `  HostName ${b.address}`,
    '',
    ...state.network.hosts.flatMap((h) => [`Host ${h.name}`, `  HostName ${h.address}`, '  ProxyJump bastion', '']),
    'Host *',
    '  User root',
    `  IdentityFile ${identity}`,
    '  IdentitiesOnly yes',
    `  UserKnownHostsFile ${path.join(state.dir, 'known_hosts')}`,
    '  StrictHostKeyChecking yes',
    '',
  ].join('\n');
}
