/**
 * The `ssh` transport: one ssh2 connection per host, host key checked against known_hosts
 * (strict), keepalive on, no pty; one exec channel runs the loader and carries the JSON-RPC.
 * node-ssh is not used: it wraps connect and buffered exec, while we need a raw streaming channel
 * and our own host key check, which is all ssh2.
 */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import type { ClientChannel, ConnectConfig } from 'ssh2';
import { daemonBundle, loaderCommand } from './loader.js';
import { fingerprint, keysFor, keyType, lookupName, preferredAlgorithms, verify, Verdict } from './known-hosts.js';
import { DaemonChannel, HostError, OpenRequest, Transport } from './types.js';

/** Keepalive interval, and how many may go unanswered before the link is declared dead. */
const KEEPALIVE_MS = 2000;
const KEEPALIVE_COUNT = 3;
/** How long close() waits for the daemon to exit before dropping the connection. */
const CLOSE_WAIT_MS = 5000;

export const sshTransport: Transport = {
  name: 'ssh',
  async open(req: OpenRequest): Promise<DaemonChannel> {
    const { host } = req;
    const conn = new ssh2.Client();
    const config = await connectConfig(req);
    let verdict: { v: Verdict; key: Buffer } | undefined;
    const known = keysFor(await readKnownHosts(host.ssh.known_hosts), host.address, host.ssh.port);
    config.hostVerifier = (key: Buffer) => {
      verdict = { v: verify(known, key), key };
      return verdict.v === 'ok' || (verdict.v === 'unknown' && host.ssh.accept_new_host_keys);
    };
    const algos = preferredAlgorithms(known);
    if (algos) config.algorithms = { serverHostKey: algos as never };

    await new Promise<void>((resolve, reject) => {
      conn.once('ready', resolve);
      // on, not once: ssh2 may emit a second error for the same failed connection (a reset, then
      // "Connection lost before handshake"), and an unheard 'error' would crash the controller.
      conn.on('error', (err) => reject(classify(err, verdict, req)));
      conn.connect(config);
    });
    // Accepted as new: remember it, as OpenSSH's accept-new does, so a later change is caught.
    if (verdict?.v === 'unknown') await addKnownHost(host.ssh.known_hosts, host.address, host.ssh.port, verdict.key);
    const stream = await new Promise<ClientChannel>((resolve, reject) => {
      conn.exec(loaderCommand(host.node, daemonBundle(), req.options), { pty: false }, (err, ch) =>
        err ? reject(new HostError('exec', `cannot start the daemon: ${err.message}`)) : resolve(ch),
      );
    }).catch((err) => {
      conn.end();
      throw err;
    });
    const closed = new Promise<void>((resolve) => {
      stream.once('close', () => resolve());
      conn.once('close', () => resolve());
    });
    // A late transport error (link cut, keepalive timeout) shows up as 'close'; keep it quiet.
    conn.on('error', () => {});
    stream.on('error', () => {});
    stream.write(daemonBundle().code);
    return {
      stdin: stream,
      stdout: stream,
      stderr: stream.stderr,
      closed,
      async close() {
        stream.end();
        const timer = setTimeout(() => conn.destroy(), CLOSE_WAIT_MS);
        await closed;
        clearTimeout(timer);
        conn.end();
      },
      abort() {
        conn.destroy();
      },
    };
  },
};

async function addKnownHost(file: string, address: string, port: number, key: Buffer): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await appendFile(file, `${lookupName(address, port)} ${keyType(key)} ${key.toString('base64')}\n`, { mode: 0o600 });
}

async function readKnownHosts(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return '';
  }
}

async function connectConfig(req: OpenRequest): Promise<ConnectConfig> {
  const { host } = req;
  const config: ConnectConfig = {
    host: host.address,
    port: host.ssh.port,
    username: host.ssh.user,
    readyTimeout: host.ssh.connect_timeout * 1000,
    keepaliveInterval: KEEPALIVE_MS,
    keepaliveCountMax: KEEPALIVE_COUNT,
  };
  const passphrase = host.ssh.passphrase ?? process.env.MESHPERF_SSH_PASSPHRASE;
  if (host.ssh.identity_file) {
    config.privateKey = await readIdentity(host.ssh.identity_file, passphrase);
    if (passphrase) config.passphrase = passphrase;
    return config;
  }
  // As OpenSSH does without an IdentityFile: the agent's keys first, then the default key files
  // (each one that can be read; an encrypted one only with MESHPERF_SSH_PASSPHRASE).
  const username = host.ssh.user;
  const methods: AuthMethod[] = [];
  if (process.env.SSH_AUTH_SOCK) methods.push({ type: 'agent', username, agent: process.env.SSH_AUTH_SOCK });
  for (const file of defaultIdentities()) {
    const key = await readFile(file).catch(() => null);
    if (key && !(ssh2.utils.parseKey(key, passphrase) instanceof Error)) methods.push({ type: 'publickey', username, key, passphrase });
  }
  config.authHandler = methods as never;
  return config;
}

/** ssh2's parse error for an encrypted key read without (or with the wrong) passphrase. */
export function isEncryptedKeyError(err: Error): boolean {
  return /encrypted|passphrase|decrypt/i.test(err.message);
}

/** True when the key file is encrypted and cannot be read without a passphrase. */
export async function needsPassphrase(file: string): Promise<boolean> {
  const key = await readFile(file).catch(() => null);
  if (!key) return false;
  const parsed = ssh2.utils.parseKey(key);
  return parsed instanceof Error && isEncryptedKeyError(parsed);
}

/** What was tried without an identity_file, for the message. */
function triedKeys(): string {
  const files = defaultIdentities();
  const agent = process.env.SSH_AUTH_SOCK ? 'the keys in ssh-agent' : 'no ssh-agent (SSH_AUTH_SOCK unset)';
  return `${agent}, then ${files.length ? files.join(', ') : `no key file in ${path.join(os.homedir(), '.ssh')}`}`;
}

/** OpenSSH's default identity files that exist, in its order. */
function defaultIdentities(): string[] {
  return ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => path.join(os.homedir(), '.ssh', f)).filter((f) => existsSync(f));
}

type AuthMethod = { type: 'agent'; username: string; agent: string } | { type: 'publickey'; username: string; key: Buffer; passphrase?: string };

/** The identity file's key, checked here, so that an encrypted one without its passphrase is an error that says so. */
async function readIdentity(keyFile: string, passphrase: string | undefined): Promise<Buffer> {
  let key: Buffer;
  try {
    key = await readFile(keyFile);
  } catch (err) {
    throw new HostError('auth', `cannot read identity_file ${keyFile}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  const parsed = ssh2.utils.parseKey(key, passphrase);
  if (parsed instanceof Error) {
    const encrypted = isEncryptedKeyError(parsed);
    throw new HostError(
      'auth',
      encrypted && !passphrase
        ? `identity_file ${keyFile} is encrypted: set MESHPERF_SSH_PASSPHRASE in the environment, or load the key into ssh-agent`
        : `cannot use identity_file ${keyFile}: ${parsed.message}${encrypted ? ' (is MESHPERF_SSH_PASSPHRASE right?)' : ''}`,
    );
  }
  return key;
}

/** Turn an ssh2 connect error into a stable code and a message an operator can act on. */
function classify(err: Error & { code?: string; level?: string }, verdict: { v: Verdict; key: Buffer } | undefined, req: OpenRequest): HostError {
  const { host } = req;
  const target = `${host.ssh.user}@${host.address}:${host.ssh.port}`;
  if (verdict && verdict.v !== 'ok') {
    const fp = `${keyType(verdict.key)} ${fingerprint(verdict.key)}`;
    const kh = host.ssh.known_hosts;
    if (verdict.v === 'unknown') {
      return new HostError('host_key_unknown', `${target}: host key ${fp} is not in ${kh}; check the fingerprint and add it (ssh-keyscan, or one ssh login), or run with --accept-new-host-keys`);
    }
    if (verdict.v === 'revoked') return new HostError('host_key_mismatch', `${target}: host key ${fp} is marked @revoked in ${kh}`);
    return new HostError('host_key_mismatch', `${target}: HOST KEY MISMATCH: the host presented ${fp}, which ${kh} does not list for it; someone may be intercepting, or the host was reinstalled`);
  }
  if (err.level === 'client-authentication') {
    return new HostError('auth', `${target}: authentication refused (${host.ssh.identity_file ? 'identity_file ' + host.ssh.identity_file : `tried ${triedKeys()}`})`);
  }
  const reason = err.code ?? err.message;
  // sshd closes (or resets) a connection before the handshake when MaxStartups throttles
  // handshakes, or when tcpwrappers / PerSourcePenalties refuse the source: say so, since ssh2's
  // words do not. (ssh.open only classifies errors from before 'ready'.)
  const hint = /before handshake|ECONNRESET/i.test(reason) ? ' (sshd closed it before the SSH handshake: too many handshakes at once (MaxStartups), or this source is refused)' : '';
  return new HostError('unreachable', `${target}: cannot connect: ${reason}${hint}`);
}
