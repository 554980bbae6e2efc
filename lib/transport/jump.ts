/**
 * Jump hosts (ProxyJump): hosts behind the same chain share one connection to each hop, and
 * reach their own sshd through a forwarded channel of it. A hop is checked like any host (its
 * key against known_hosts). When a hop fails, every host behind it fails with jump_failed,
 * naming that hop. A connection is closed when the last host using it has closed.
 */
import type { Duplex } from 'node:stream';
import type ssh2 from 'ssh2';
import { HostError } from '../shared/errors.js';
import { connectSsh, endConnection } from './connect.js';
import { describeTarget, SshSettings } from './ssh-config.js';

/**
 * Channels opened at once on one hop's connection. OpenSSH's sshd refuses channels past its
 * MaxSessions only for sessions, but a bastion may limit forwards too; a refused open is retried.
 */
const OPENS_AT_ONCE = 8;
const OPEN_ATTEMPTS = 4;
/** SSH_OPEN_CONNECT_FAILED (RFC 4254): the hop could not connect onward. */
const CONNECT_FAILED = 2;

interface Hop {
  client: Promise<ssh2.Client>;
  users: number;
  opening: number;
  waiting: (() => void)[];
}

const hops = new Map<string, Hop>();

const chainKey = (chain: SshSettings[]) => chain.map(describeTarget).join(',');

/**
 * A channel to `host:port` through `chain` (first hop first), and how to let go of it. Hop
 * connections are made once and shared.
 */
export async function forwardThrough(chain: SshSettings[], host: string, port: number, passphrase?: string): Promise<{ sock: Duplex; release: () => void }> {
  const hop = acquire(chain, passphrase);
  try {
    const client = await hop.client;
    const sock = await openChannel(hop, client, host, port, describeTarget(chain.at(-1)!));
    let released = false;
    return {
      sock,
      release: () => {
        if (!released) (released = true), release(chain);
      },
    };
  } catch (err) {
    release(chain);
    throw err;
  }
}

function acquire(chain: SshSettings[], passphrase: string | undefined): Hop {
  const key = chainKey(chain);
  let hop = hops.get(key);
  if (!hop) {
    const last = chain.at(-1)!;
    const client = (async () => {
      // The hop before this one carries this one's connection.
      const via = chain.length > 1 ? await forwardThrough(chain.slice(0, -1), last.host, last.port, passphrase) : null;
      try {
        const c = await connectSsh(last, { passphrase, sock: via?.sock });
        c.once('close', () => {
          if (hops.get(key)?.client === client) hops.delete(key);
          via?.release();
        });
        return c;
      } catch (err) {
        via?.release();
        throw err;
      }
    })().catch((err: Error) => {
      hops.delete(key);
      if (err instanceof HostError && err.code === 'jump_failed') throw err;
      throw new HostError('jump_failed', `jump host ${describeTarget(last)} failed: ${err.message}`);
    });
    hop = { client, users: 0, opening: 0, waiting: [] };
    hops.set(key, hop);
  }
  hop.users++;
  return hop;
}

function release(chain: SshSettings[]): void {
  const key = chainKey(chain);
  const hop = hops.get(key);
  if (!hop || --hop.users > 0) return;
  hops.delete(key);
  hop.client.then(endConnection, () => {});
}

/** forwardOut, a bounded number at once, retrying refusals with backoff. */
async function openChannel(hop: Hop, client: ssh2.Client, host: string, port: number, via: string): Promise<Duplex> {
  while (hop.opening >= OPENS_AT_ONCE) await new Promise<void>((r) => hop.waiting.push(r));
  hop.opening++;
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        return await new Promise<Duplex>((resolve, reject) => client.forwardOut('127.0.0.1', 0, host, port, (err, ch) => (err ? reject(err) : resolve(ch))));
      } catch (err) {
        // The hop works but cannot reach the host: the host is unreachable, not the hop.
        if ((err as { reason?: number }).reason === CONNECT_FAILED) {
          throw new HostError('unreachable', `${host}:${port}: cannot connect from jump host ${via}: ${(err as Error).message}`);
        }
        if (attempt >= OPEN_ATTEMPTS) {
          throw new HostError('jump_failed', `jump host ${via} would not forward to ${host}:${port}: ${(err as Error).message}`);
        }
        await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
      }
    }
  } finally {
    hop.opening--;
    hop.waiting.shift()?.();
  }
}
