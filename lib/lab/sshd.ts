/** One OpenSSH server per lab host, in its namespace, with its own hostname (unshare --uts). */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import path from 'node:path';
import { parseMountinfo } from '../shared/mountinfo.js';
import { parseProcNetTcp, TCP_LISTEN } from '../shared/proc-net-tcp.js';
import { run } from './exec.js';

export const SSHD = ['/usr/sbin/sshd', '/usr/bin/sshd'].find((p) => existsSync(p));

export async function keygen(file: string, comment: string): Promise<string> {
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
  return (await readFile(`${file}.pub`, 'utf8')).trim();
}

export function sshdConfig(o: { addresses: string[]; hostKey: string; authorizedKeys: string }): string {
  // Sessions get the controller's node first on PATH, as a user's nodes would have theirs.
  const nodeDir = path.dirname(process.execPath);
  return [
    'Port 22',
    ...o.addresses.map((a) => `ListenAddress ${a}`),
    `HostKey ${o.hostKey}`,
    'PidFile none',
    `AuthorizedKeysFile ${o.authorizedKeys}`,
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'UseDNS no',
    'MaxStartups 100:30:200',
    // Drop sessions whose client vanished (a cut link), as a production sshd should.
    'ClientAliveInterval 5',
    'ClientAliveCountMax 3',
    `SetEnv PATH=${nodeDir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    // INFO: each login's "Accepted publickey" line, the outside record of how many sessions a run opened.
    'LogLevel INFO',
    '',
  ].join('\n');
}

/** Shell words that mount this machine's cpu cgroup hierarchy (v2, or v1's cpu controller) where it is mounted here; '' if none. */
export function cpuCgroupMount(mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): string {
  const mounts = parseMountinfo(mountinfo);
  const v2 = mounts.find((m) => m.fstype === 'cgroup2' && m.point === '/sys/fs/cgroup');
  // Best effort: a host without its cgroups is still a host (the daemon then reports no quota).
  if (v2) return '(mount -t cgroup2 cgroup2 /sys/fs/cgroup) 2>/dev/null; ';
  const v1 = mounts.find((m) => m.fstype === 'cgroup' && m.root === '/' && m.options.includes('cpu') && /^\/sys\/fs\/cgroup\/[\w,]+$/.test(m.point));
  if (!v1) return '';
  const controllers = v1.options.filter((x) => x !== 'rw' && x !== 'ro').join(',');
  return `(mount -t tmpfs cgroup /sys/fs/cgroup && mkdir -p ${v1.point} && mount -t cgroup -o ${controllers} cgroup ${v1.point}) 2>/dev/null; `;
}

/**
 * Start sshd in `namespace` under hostname `name`; resolves with its pid once it listens. With
 * `home`, that directory is the login's home on this host only, as on a real host: its own
 * shell start-up files, caches and leftovers (else every lab host shares the controller's home,
 * and 200 logins at once queue on one lock there, e.g. a `pyenv rehash` in root's .bashrc).
 * With
 * `brokenNode`, the host's node (the controller's binary, on every login's PATH) is /bin/false
 * in a mount namespace of its own: a host where `node` is there but does not run. With
 * `hostsFile`, that file is its /etc/hosts.
 */
export async function startSshd(o: { namespace: string; name: string; config: string; log: string; brokenNode?: boolean; hostsFile?: string; home?: string }): Promise<number> {
  if (!SSHD) throw new Error('sshd not found: install openssh-server');
  mkdirSync('/run/sshd', { recursive: true }); // sshd's privilege separation directory
  const log = openSync(o.log, 'a');
  const breakNode = o.brokenNode ? 'mount --bind /bin/false "$4" && ' : '';
  // The cluster's own names (its /etc/hosts), seen by this host's logins only.
  const names = o.hostsFile ? 'mount --bind "$5" /etc/hosts && ' : '';
  const home = o.home ? 'mount --bind "$6" "$7" && ' : '';
  // ip netns exec mounts a fresh /sys, without the cgroup hierarchies a real host has: its CPU
  // controller is mounted again, so the daemon reads its cgroup's quota as it would there.
  const cgroups = cpuCgroupMount();
  // ip netns exec, unshare and sh all exec: the pid we get is sshd's own.
  const child = spawn(
    'ip',
    ['netns', 'exec', o.namespace, 'unshare', '--uts', '--mount', 'sh', '-c', `${breakNode}${names}${home}${cgroups}hostname "$1" && exec "$2" -D -e -f "$3"`, 'sh', o.name, SSHD, o.config, process.execPath, o.hostsFile ?? '', o.home ?? '', userInfo().homedir],
    { detached: true, stdio: ['ignore', log, log] },
  );
  closeSync(log);
  child.unref();
  const pid = child.pid!;
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const tcp = await run('ip', ['netns', 'exec', o.namespace, 'cat', '/proc/net/tcp']).catch(() => '');
    if (parseProcNetTcp(tcp).some((s) => s.port === 22 && s.state === TCP_LISTEN)) return pid;
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const text = await readFile(o.log, 'utf8').catch(() => '');
  throw new Error(`sshd in ${o.namespace} did not start listening: ${text.trim().split('\n').slice(-3).join(' | ')}`);
}

export async function writeSecret(file: string, text: string): Promise<void> {
  await writeFile(file, text, { mode: 0o600 });
}
