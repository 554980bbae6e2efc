/**
 * One host's part in a run: open the transport, wait for the daemon, say hello, and turn every
 * way that can fail into a HostError with a stable code.
 */
import type { HostConfig, SshDefaults } from '../inventory/types.js';
import type { DaemonOptions, HelloResult, MethodName, ParamsOf, ResultOf } from '../protocol/messages.js';
import { PROTOCOL_VERSION } from '../protocol/messages.js';
import { RpcClient } from '../rpc/client.js';
import { DaemonChannel, HostError, Transport } from '../transport/types.js';

export class HostSession {
  private constructor(
    readonly host: HostConfig,
    private readonly channel: DaemonChannel,
    private readonly rpc: RpcClient,
    readonly hello: HelloResult,
  ) {}

  static async open(transport: Transport, host: HostConfig, ssh: SshDefaults, options: DaemonOptions): Promise<HostSession> {
    const channel = await transport.open({ host, ssh, options });
    const rpc = new RpcClient(channel, Math.max(30_000, host.ssh.connect_timeout * 1000));
    try {
      const ready = await rpc.ready.catch((err: Error) => {
        throw startFailure(host, rpc.stderr, err);
      });
      if (ready.protocol !== PROTOCOL_VERSION) {
        throw new HostError('protocol', `daemon speaks protocol ${ready.protocol}, controller ${PROTOCOL_VERSION}`);
      }
      const hello = await rpc.call('hello', {}, 30_000);
      if (!hello.iperf3_version) {
        throw new HostError('no_iperf3', hello.iperf3_error ?? `iperf3 not usable at ${hello.iperf3_path}`);
      }
      return new HostSession(host, channel, rpc, hello);
    } catch (err) {
      await channel.close().catch(() => {});
      throw err;
    }
  }

  call<M extends MethodName>(method: M, params: ParamsOf<M>, timeoutMs: number): Promise<ResultOf<M>> {
    return this.rpc.call(method, params, timeoutMs);
  }

  /** Ask the daemon to stop its iperf3s, then end its stdin so it exits. */
  async close(): Promise<void> {
    await this.rpc.call('stop', {}, 15_000).catch(() => {});
    await this.channel.close();
  }
}

/** The daemon never said ready: tell a missing node apart from everything else. */
function startFailure(host: HostConfig, stderr: string, err: Error): HostError {
  if (/node: (command )?not found|No such file or directory|exec: .*node/.test(stderr)) {
    return new HostError('no_node', `Node.js not found on the host as "${host.node}" (set hosts.node to its path): ${stderr.trim()}`);
  }
  if (/SyntaxError|Unexpected token|checksum mismatch/.test(stderr)) {
    return new HostError('no_node', `the host's Node.js cannot run the daemon (Node >= 16 needed): ${stderr.trim().split('\n').slice(-2).join(' ')}`);
  }
  return new HostError('daemon', err.message);
}
