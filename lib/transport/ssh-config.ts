/**
 * A host's SSH settings as OpenSSH would use them: the OpenSSH client config
 * (lib/inventory/openssh-config.ts) with whatever the inventory sets over it.
 */
import { readOpenSshConfig } from '../inventory/openssh-config.js';
import type { HostConfig } from '../inventory/types.js';

/** One hop of a jump chain: "[user@]host[:port]", "[user@][v6addr]:port". */
export interface Hop {
  user?: string;
  host: string;
  port?: number;
}

export function parseHop(text: string): Hop {
  const at = text.lastIndexOf('@');
  const user = at > 0 ? text.slice(0, at) : undefined;
  const rest = at > 0 ? text.slice(at + 1) : text;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  const plain = /^([^:]+)(?::(\d+))?$/.exec(rest);
  const m = v6 ?? plain;
  // A bare IPv6 address (several colons, no brackets) has no port.
  const host = m ? m[1]! : rest;
  const port = m?.[2] ? Number(m[2]) : undefined;
  return { ...(user ? { user } : {}), host, ...(port ? { port } : {}) };
}

/** The settings one connection is made with, after the config and the inventory. */
export interface SshSettings {
  /** What is connected to (HostName after the config), user and port. */
  host: string;
  port: number;
  user: string;
  /** Key files to offer, in order, and whether ssh-agent may offer its keys too. */
  identityFiles: string[];
  useAgent: boolean;
  knownHosts: string;
  acceptNew: boolean;
  connectTimeout: number;
  /** Jump hosts, first hop first, each with its own settings. */
  jump: SshSettings[];
}

/**
 * A host's settings: the inventory's where it set them, OpenSSH's config for the rest, and
 * the inventory's defaults after that. Jump hosts are looked up in the same config.
 */
export async function resolveSsh(host: HostConfig): Promise<SshSettings> {
  const s = host.ssh;
  const set = new Set(s.set);
  const view = s.config ? await readOpenSshConfig(s.config, host.ssh_host) : null;
  const identityFiles = set.has('identity_file') && s.identity_file ? [s.identity_file] : (view?.identityFiles ?? (s.identity_file ? [s.identity_file] : []));
  const jumpText = set.has('jump') ? s.jump : (view?.proxyJump ?? s.jump);
  const base: Omit<SshSettings, 'host' | 'port' | 'user' | 'jump'> = {
    identityFiles,
    // IdentitiesOnly, or an inventory identity_file: only that key, as before.
    useAgent: !(view?.identitiesOnly || (set.has('identity_file') && s.identity_file)),
    knownHosts: set.has('known_hosts') || !view ? s.known_hosts : view.knownHosts[0]!,
    acceptNew: set.has('accept_new_host_keys') || !view ? s.accept_new_host_keys : view.strictHostKeyChecking === 'accept-new',
    connectTimeout: set.has('connect_timeout') || !view?.connectTimeout ? s.connect_timeout : view.connectTimeout,
  };
  const jump = jumpText ? await Promise.all(jumpText.split(',').map((h) => resolveHop(parseHop(h.trim()), host, base))) : [];
  return {
    ...base,
    host: view?.hostname || host.ssh_host,
    port: set.has('port') || !view ? s.port : view.port,
    user: set.has('user') || !view ? s.user : view.user,
    jump,
  };
}

/** A jump host: what the hop says, then its own config entry, then the host's settings. */
async function resolveHop(hop: Hop, host: HostConfig, base: Omit<SshSettings, 'host' | 'port' | 'user' | 'jump'>): Promise<SshSettings> {
  const view = host.ssh.config ? await readOpenSshConfig(host.ssh.config, hop.host) : null;
  return {
    ...base,
    ...(view ? { identityFiles: view.identityFiles.length ? view.identityFiles : base.identityFiles, useAgent: base.useAgent && !view.identitiesOnly, knownHosts: view.knownHosts[0]! } : {}),
    host: view?.hostname || hop.host,
    port: hop.port ?? view?.port ?? 22,
    user: hop.user ?? view?.user ?? host.ssh.user,
    jump: [],
  };
}

/** "root@10.0.0.1:22", brackets around an IPv6 address. */
export function describeTarget(s: { user: string; host: string; port: number }): string {
  return `${s.user}@${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}`;
}
