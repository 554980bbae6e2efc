/**
 * One SSH connection, made as OpenSSH makes it: host key checked against known_hosts (strict,
 * or accept-new), keys offered in OpenSSH's order, keepalive on. Used for every host and every
 * jump host alike; `sock` is the forwarded channel when the connection goes through a jump host.
 */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { ConnectConfig } from 'ssh2';
import { HostError } from '../shared/errors.js';
import { fingerprint, keysFor, keyType, lookupName, preferredAlgorithms, verify, Verdict } from './known-hosts.js';
import { describeTarget, SshSettings } from './ssh-config.js';

/** Keepalive interval, and how many may go unanswered before the link is declared dead. */
const KEEPALIVE_MS = 2000;
const KEEPALIVE_COUNT = 3;

export async function connectSsh(s: SshSettings, opts: { passphrase?: string; sock?: Duplex; ip?: string | null }): Promise<ssh2.Client> {
  const conn = new ssh2.Client();
  const config: ConnectConfig = {
    host: opts.ip ?? s.host,
    port: s.port,
    username: s.user,
    readyTimeout: s.connectTimeout * 1000,
    keepaliveInterval: KEEPALIVE_MS,
    keepaliveCountMax: KEEPALIVE_COUNT,
    authHandler: (await authMethods(s, opts.passphrase)) as never,
    ...(opts.sock ? { sock: opts.sock as never } : {}),
  };
  let verdict: { v: Verdict; key: Buffer } | undefined;
  const known = keysFor(await readFile(s.knownHosts, 'utf8').catch(() => ''), s.host, s.port);
  config.hostVerifier = (key: Buffer) => {
    verdict = { v: verify(known, key), key };
    return verdict.v === 'ok' || (verdict.v === 'unknown' && s.acceptNew);
  };
  const algos = preferredAlgorithms(known);
  if (algos) config.algorithms = { serverHostKey: algos as never };
  await new Promise<void>((resolve, reject) => {
    conn.once('ready', resolve);
    // on, not once: ssh2 may emit a second error for the same failed connection (a reset, then
    // "Connection lost before handshake"), and an unheard 'error' would crash the controller.
    conn.on('error', (err) => reject(classify(err, verdict, s)));
    conn.connect(config);
  });
  // Accepted as new: remember it, as OpenSSH's accept-new does, so a later change is caught.
  if (verdict?.v === 'unknown') await addKnownHost(s.knownHosts, s.host, s.port, verdict.key);
  // A late transport error (link cut, keepalive timeout) shows up as 'close'; keep it quiet.
  conn.on('error', () => {});
  return conn;
}

async function addKnownHost(file: string, host: string, port: number, key: Buffer): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await appendFile(file, `${lookupName(host, port)} ${keyType(key)} ${key.toString('base64')}\n`, { mode: 0o600 });
}

type AuthMethod = { type: 'agent'; username: string; agent: string } | { type: 'publickey'; username: string; key: Buffer; passphrase?: string };

/**
 * As OpenSSH does: the agent's keys first (unless IdentitiesOnly or an inventory identity_file),
 * then the identity files that exist (the default ones when none is named). A named file that
 * cannot be used is an error that says why; a default one is skipped.
 */
async function authMethods(s: SshSettings, passphraseIn: string | undefined): Promise<AuthMethod[]> {
  const passphrase = passphraseIn ?? process.env.MESHPERF_SSH_PASSPHRASE;
  const username = s.user;
  const methods: AuthMethod[] = [];
  if (s.useAgent && process.env.SSH_AUTH_SOCK) methods.push({ type: 'agent', username, agent: process.env.SSH_AUTH_SOCK });
  const named = s.identityFiles.filter((f) => existsSync(f));
  if (!s.useAgent && s.identityFiles.length === 1) {
    // The one key the inventory names: unusable is an error, not a silent skip.
    methods.push({ type: 'publickey', username, key: await readIdentity(s.identityFiles[0]!, passphrase), ...(passphrase ? { passphrase } : {}) });
    return methods;
  }
  for (const file of named.length ? named : defaultIdentities()) {
    const key = await readFile(file).catch(() => null);
    if (key && !(ssh2.utils.parseKey(key, passphrase) instanceof Error)) methods.push({ type: 'publickey', username, key, passphrase });
  }
  return methods;
}

/** How long an ended connection may wait for the host's side to close before it is dropped. */
const END_WAIT_MS = 2000;

/**
 * End a connection, and drop it if the host does not close its side soon. A host (or the path to
 * it) gone at that moment never acknowledges the end, and the socket's retransmissions would keep
 * a library user's process alive for the kernel's 15 minutes.
 */
export function endConnection(conn: ssh2.Client): Promise<void> {
  const sock = (conn as unknown as { _sock?: Duplex })._sock;
  // Closed already (the host ended it, or its daemon's exit took it down): no 'close' is coming.
  if (!sock || sock.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      conn.removeListener('close', done);
      resolve();
    };
    // ssh2's destroy() does nothing once the socket is ended (it checks that it is writable), so
    // the socket itself is destroyed.
    const timer = setTimeout(() => (sock.destroy(), done()), END_WAIT_MS);
    conn.once('close', done);
    conn.end();
  });
}

/** ssh2's parse error for an encrypted key read without (or with the wrong) passphrase. */
export function isEncryptedKeyError(err: Error): boolean {
  return /encrypted|passphrase|decrypt/i.test(err.message);
}

/** OpenSSH's default identity files that exist, in its order. */
function defaultIdentities(): string[] {
  return ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => path.join(os.homedir(), '.ssh', f)).filter((f) => existsSync(f));
}

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

/** What was tried, for the message. */
function triedKeys(s: SshSettings): string {
  const files = s.identityFiles.filter((f) => existsSync(f));
  const agent = !s.useAgent ? '' : process.env.SSH_AUTH_SOCK ? 'the keys in ssh-agent, then ' : 'no ssh-agent (SSH_AUTH_SOCK unset), then ';
  const list = files.length ? files : defaultIdentities();
  return `${agent}${list.length ? list.join(', ') : `no key file in ${path.join(os.homedir(), '.ssh')}`}`;
}

/** Turn an ssh2 connect error into a stable code and a message an operator can act on. */
function classify(err: Error & { code?: string; level?: string }, verdict: { v: Verdict; key: Buffer } | undefined, s: SshSettings): HostError {
  const target = describeTarget(s);
  if (verdict && verdict.v !== 'ok') {
    const fp = `${keyType(verdict.key)} ${fingerprint(verdict.key)}`;
    const kh = s.knownHosts;
    if (verdict.v === 'unknown') {
      return new HostError('host_key_unknown', `${target}: host key ${fp} is not in ${kh}; check the fingerprint and add it (ssh-keyscan, or one ssh login), or run with --accept-new-host-keys`);
    }
    if (verdict.v === 'revoked') return new HostError('host_key_mismatch', `${target}: host key ${fp} is marked @revoked in ${kh}`);
    return new HostError('host_key_mismatch', `${target}: HOST KEY MISMATCH: the host presented ${fp}, which ${kh} does not list for it; someone may be intercepting, or the host was reinstalled`);
  }
  if (err.level === 'client-authentication') return new HostError('auth', `${target}: authentication refused (tried ${triedKeys(s)})`);
  const reason = err.code ?? err.message;
  // sshd closes (or resets) a connection before the handshake when MaxStartups throttles
  // handshakes, or when tcpwrappers / PerSourcePenalties refuse the source: say so, since ssh2's
  // words do not. (Only errors from before 'ready' are classified.)
  const hint = /before handshake|ECONNRESET/i.test(reason) ? ' (sshd closed it before the SSH handshake: too many handshakes at once (MaxStartups), or this source is refused)' : '';
  return new HostError('unreachable', `${target}: cannot connect: ${reason}${hint}`);
}
