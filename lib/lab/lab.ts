/**
 * The emulated cluster: `meshperf lab up` builds N hosts (network namespaces on one bridge, each
 * with its own sshd, host key and hostname) and writes an inventory for them; `lab down` removes
 * every trace. Needs root on Linux. State lives in <dir>/lab.json so down works from any shell.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { LabError, LabNetwork, labLayout, networkDown, networkInUse, networkUp } from './network.js';
import { keygen, sshdConfig, startSshd, writeSecret } from './sshd.js';

export { LabError };
export { SSHD } from './sshd.js';

export const DEFAULT_SUBNET = '198.18.0.0/24';

export interface LabState {
  dir: string;
  subnet: string;
  network: LabNetwork;
  sshdPids: number[];
  inventory: string;
}

export interface LabUpOptions {
  hosts: number;
  dir: string;
  subnet?: string;
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
  const network = labLayout(subnet, opts.hosts);
  // Another lab's subnet: refuse before building anything, so that nothing of it is touched.
  const busy = await networkInUse(network);
  if (busy) throw new LabError(`--subnet ${subnet} is in use: ${busy}; choose another --subnet, or take that lab down first`);
  const state: LabState = { dir, subnet, network, sshdPids: [], inventory: path.join(dir, 'hosts.toml') };
  await mkdir(dir, { recursive: true });
  // Saved before anything is built, so that `lab down` can undo a half-built lab.
  await saveState(state);
  try {
    await networkUp(network);
    const clientKey = path.join(dir, 'id_ed25519');
    await writeSecret(path.join(dir, 'authorized_keys'), (await keygen(clientKey, 'meshperf-lab-client')) + '\n');
    const known: string[] = [];
    for (const h of network.hosts) {
      const hdir = path.join(dir, h.name);
      await mkdir(hdir, { recursive: true });
      const hostKey = path.join(hdir, 'ssh_host_ed25519_key');
      const pub = await keygen(hostKey, `meshperf-lab-${h.name}`);
      known.push(`${h.address} ${pub.split(' ').slice(0, 2).join(' ')}`);
      const config = path.join(hdir, 'sshd_config');
      await writeFile(config, sshdConfig({ address: h.address, hostKey, authorizedKeys: path.join(dir, 'authorized_keys') }));
      state.sshdPids.push(await startSshd({ namespace: h.namespace, name: h.name, config, log: path.join(hdir, 'sshd.log') }));
      await saveState(state);
    }
    await writeFile(path.join(dir, 'known_hosts'), known.join('\n') + '\n');
    await writeFile(state.inventory, inventoryToml(state, clientKey, opts.test ?? {}));
    return state;
  } catch (err) {
    await labDown(dir).catch(() => {});
    throw err;
  }
}

/** Stop every sshd and process of the lab, remove its network and its directory. */
/** The first /24 of 198.18.0.0/15 that no lab (or anything else here) uses. */
export async function pickFreeSubnet(): Promise<string> {
  for (let i = 0; i < 512; i++) {
    const subnet = `198.${18 + (i >> 8)}.${i & 255}.0/24`;
    if (!(await networkInUse(labLayout(subnet, 2)))) return subnet;
  }
  throw new LabError('every /24 of 198.18.0.0/15 is in use here; take a lab down first');
}

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
  await rm(dir, { recursive: true, force: true });
}

async function saveState(state: LabState): Promise<void> {
  await writeFile(stateFile(state.dir), JSON.stringify(state, null, 2) + '\n');
}

function inventoryToml(state: LabState, identity: string, test: Record<string, string | number>): string {
  const q = (v: string | number) => (typeof v === 'number' ? String(v) : JSON.stringify(v));
  return [
    `# Written by meshperf lab up for the emulated cluster in ${state.dir}`,
    '[ssh]',
    'user = "root"',
    `identity_file = ${q(identity)}`,
    `known_hosts = ${q(path.join(state.dir, 'known_hosts'))}`,
    '',
    '[test]',
    ...Object.entries({ duration: 5, ...test }).map(([k, v]) => `${k} = ${q(v)}`),
    '',
    ...state.network.hosts.flatMap((h) => ['[[hosts]]', `name = "${h.name}"`, `address = "${h.address}"`, '']),
  ].join('\n');
}
