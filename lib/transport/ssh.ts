/**
 * The `ssh` transport: one ssh2 connection per host (through its jump hosts, if any), with the
 * settings OpenSSH would use (lib/transport/ssh-config.ts) and the checks of connect.ts; one exec
 * channel runs the loader and carries the JSON-RPC. node-ssh is not used: it wraps connect and
 * buffered exec, while we need a raw streaming channel and our own host key check, which is all
 * ssh2.
 */
import { lookup } from 'node:dns/promises';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import ssh2 from 'ssh2';
import type { ClientChannel } from 'ssh2';
import { connectSsh, endConnection, isEncryptedKeyError } from './connect.js';
import { forwardThrough } from './jump.js';
import { daemonBundle, LOADER_STARTED, loaderCommand } from './loader.js';
import { checkNodePath, ensureNode } from './runtime.js';
import { describeTarget, resolveSsh } from './ssh-config.js';
import type { RuntimeConfig } from '../inventory/types.js';
import { DaemonChannel, HostError, OpenRequest, Transport } from './types.js';

export { isEncryptedKeyError };

/** How long close() waits for the daemon to exit before dropping the connection. */
const CLOSE_WAIT_MS = 5000;

export const sshTransport: Transport = {
  name: 'ssh',
  async open(req: OpenRequest): Promise<DaemonChannel> {
    const { host } = req;
    const node = checkNodePath(host.node);
    const settings = await resolveSsh(host);
    const passphrase = host.ssh.passphrase;
    // Through jump hosts, the name is resolved at the last one; directly, here (and recorded).
    const via = settings.jump.length ? await forwardThrough(settings.jump, settings.host, settings.port, passphrase) : null;
    const ip = isIP(settings.host) ? settings.host : via ? null : await resolveName(settings);
    const conn = await connectSsh(settings, { passphrase, sock: via?.sock, ip }).catch((err) => {
      via?.release();
      throw err;
    });
    conn.once('close', () => via?.release());
    const { stream, pushedBytes } = await bootDaemon(conn, node, req).catch(async (err) => {
      await endConnection(conn);
      throw err;
    });
    const closed = new Promise<void>((resolve) => {
      stream.once('close', () => resolve());
      conn.once('close', () => resolve());
    });
    return {
      stdin: stream,
      stdout: stream,
      stderr: stream.stderr,
      closed,
      async close() {
        stream.end(); // the daemon exits when its stdin ends
        const timer = setTimeout(() => conn.destroy(), CLOSE_WAIT_MS);
        await closed;
        clearTimeout(timer);
        await endConnection(conn);
      },
      abort() {
        conn.destroy();
      },
      target: { host: settings.host, ip, port: settings.port, user: settings.user, jump: settings.jump.map(describeTarget), runtime_pushed_bytes: pushedBytes },
    };
  },
};

/**
 * One exec in the common case: the loader, run by the host's own node as configured. Only when
 * that does not start (no node, a broken or too old one) is a node looked for further, or brought
 * (runtime.ts), and the loader started again with it.
 */
async function bootDaemon(conn: ssh2.Client, node: string, req: OpenRequest): Promise<{ stream: ClientChannel; pushedBytes: number }> {
  const first = await startLoader(conn, node, req.options, null);
  if (await loaderStarted(first, Math.max(req.host.ssh.connect_timeout, req.host.ssh.lost_after))) return { stream: first, pushedBytes: 0 };
  first.resume(); // read to its end, so that the ended command's channel closes
  const found = await ensureNode((script, stdin) => runScript(conn, script, stdin), req.host.node, req.runtime ?? DEFAULT_RUNTIME);
  if (found.pushedBytes) req.onRuntime?.(found.pushedBytes);
  return { stream: await startLoader(conn, found.node, req.options, found.removeDir), pushedBytes: found.pushedBytes };
}

/** Run the loader with `node` and send it the bundle; the channel then carries the JSON-RPC. */
async function startLoader(conn: ssh2.Client, node: string, options: OpenRequest['options'], removeDir: string | null): Promise<ClientChannel> {
  const stream = await new Promise<ClientChannel>((resolve, reject) => {
    conn.exec(loaderCommand(node, daemonBundle(), options, removeDir), { pty: false }, (err, ch) =>
      err ? reject(new HostError('exec', `cannot start the daemon: ${err.message}`)) : resolve(ch),
    );
  });
  stream.on('error', () => {});
  stream.write(daemonBundle().code);
  return stream;
}

/**
 * True once the loader says it runs, false when the command ends first (no such node, or one
 * that does not run the loader). What it wrote to stderr before then is a login's noise or the
 * shell's complaint, which the full probe explains better.
 */
function loaderStarted(stream: ClientChannel, allowedS: number): Promise<boolean> {
  // A host starved of CPU takes long to start Node.js (1 % of a core: tens of seconds), and its
  // SSH is up: it is waited for as long as a busy host is (ssh.lost_after), never less than 30 s.
  const waitS = Math.max(30, allowedS);
  return new Promise((resolve, reject) => {
    let seen = '';
    const finish = () => {
      clearTimeout(timer);
      stream.stderr.removeListener('data', onData);
      stream.removeListener('exit', onClose);
      stream.removeListener('close', onClose);
    };
    const onData = (c: Buffer) => {
      seen = (seen + c.toString('utf8')).slice(-4096);
      if (seen.includes(`${LOADER_STARTED}\n`)) finish(), resolve(true);
    };
    const onClose = () => (finish(), resolve(false));
    const timer = setTimeout(() => {
      finish();
      reject(new HostError('daemon', `the daemon's loader did not start on the host within ${waitS} s (ssh.lost_after, or connect_timeout if longer)`));
    }, waitS * 1000);
    stream.stderr.on('data', onData);
    // 'exit', as its stdout is left unread for the daemon's client: 'close' waits for that.
    stream.once('exit', onClose);
    stream.once('close', onClose);
  });
}

const DEFAULT_RUNTIME: RuntimeConfig = { push_node: 'auto', keep_runtime: false, binaries: {} };

/**
 * Run a POSIX shell script on the host, feeding it `stdin`; resolves with its exit code and
 * output. The script travels base64-encoded on one line, so that the login's shell, whatever it
 * is (csh and fish quote otherwise, and csh allows no newline in quotes), only starts sh.
 */
function runScript(conn: ssh2.Client, script: string, stdin?: Buffer): Promise<{ code: number; stdout: string; stderr: string }> {
  const command = `sh -c 'eval "$(echo ${Buffer.from(script).toString('base64')} | base64 -d)"'`;
  return new Promise((resolve, reject) => {
    conn.exec(command, { pty: false }, (err, ch) => {
      if (err) return reject(new HostError('exec', `cannot run a command: ${err.message}`));
      let stdout = '';
      let stderr = '';
      ch.on('data', (d: Buffer) => (stdout += d.toString()));
      ch.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      ch.on('error', () => {});
      ch.once('close', (code: number | null) => resolve({ code: code ?? -1, stdout, stderr }));
      ch.end(stdin);
    });
  });
}

/** A host name's address, resolved here so that the results can say where SSH went. */
async function resolveName(s: { host: string; port: number; user: string }): Promise<string> {
  try {
    return (await lookup(s.host)).address;
  } catch (err) {
    throw new HostError('unreachable', `${describeTarget(s)}: cannot resolve ${s.host}: ${(err as NodeJS.ErrnoException).code ?? err} (an alias of an OpenSSH config needs [ssh] config, or ~/.ssh/config)`);
  }
}

/** True when the key file is encrypted and cannot be read without a passphrase. */
export async function needsPassphrase(file: string): Promise<boolean> {
  const key = await readFile(file).catch(() => null);
  if (!key) return false;
  const parsed = ssh2.utils.parseKey(key);
  return parsed instanceof Error && isEncryptedKeyError(parsed);
}
