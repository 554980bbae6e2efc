/**
 * The OpenSSH client config, read by `ssh -G` (OpenSSH's own reading: Host and Match patterns,
 * first value wins, Include, %-tokens). `ssh -G` rather than a JavaScript parser: no parser
 * reads Include and Match exactly as OpenSSH does, and a cluster's config relies on both.
 */
import { execFile } from 'node:child_process';
import os from 'node:os';
import { HostError } from '../shared/errors.js';
import { expandHome } from './paths.js';

/** What `ssh -G` says about a host, in the words meshperf needs. */
export interface OpenSshView {
  hostname: string;
  user: string;
  port: number;
  identityFiles: string[];
  identitiesOnly: boolean;
  knownHosts: string[];
  strictHostKeyChecking: string;
  connectTimeout: number | null;
  proxyJump: string | null;
}

/** `ssh -G` output ("key value" lines, keys lower-case) -> the settings meshperf uses. */
export function parseSshG(text: string): OpenSshView {
  const all = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+(.*)$/.exec(line.trim());
    if (m) all.set(m[1]!, [...(all.get(m[1]!) ?? []), m[2]!]);
  }
  const one = (k: string) => all.get(k)?.[0];
  const timeout = one('connecttimeout');
  const jump = one('proxyjump');
  return {
    hostname: one('hostname') ?? '',
    user: one('user') ?? os.userInfo().username,
    port: Number(one('port') ?? 22),
    identityFiles: (all.get('identityfile') ?? []).map(expandHome),
    identitiesOnly: one('identitiesonly') === 'yes',
    knownHosts: (one('userknownhostsfile') ?? '~/.ssh/known_hosts').split(/\s+/).map(expandHome),
    strictHostKeyChecking: one('stricthostkeychecking') ?? 'ask',
    connectTimeout: timeout && timeout !== 'none' ? Number(timeout) : null,
    proxyJump: jump && jump !== 'none' ? jump : null,
  };
}

/** Ask OpenSSH how it would reach `host` with `configFile`. */
export function readOpenSshConfig(configFile: string, host: string): Promise<OpenSshView> {
  return new Promise((resolve, reject) => {
    execFile('ssh', ['-G', '-F', configFile, host], { encoding: 'utf8', timeout: 10_000 }, (err, stdout, stderr) => {
      if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT') {
        return reject(new HostError('ssh_config', `cannot read the OpenSSH config ${configFile}: no ssh command here to read it with (install openssh-client), or set [ssh] config = false`));
      }
      if (err) return reject(new HostError('ssh_config', `ssh -G -F ${configFile} ${host}: ${(stderr || err.message).trim().split('\n')[0]}`));
      resolve(parseSshG(stdout));
    });
  });
}
