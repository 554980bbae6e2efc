/** What a transport gives the controller: a running daemon's stdio, however it was reached. */
import type { Readable, Writable } from 'node:stream';
import type { HostConfig, RuntimeConfig, SshDefaults } from '../inventory/types.js';
import type { DaemonOptions } from '../protocol/messages.js';
import type { SshTarget } from '../results/types.js';
import { HostError } from '../shared/errors.js';

export interface DaemonChannel {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  /** Resolves when the daemon's process or channel has ended. */
  closed: Promise<void>;
  /** End stdin (the daemon then stops its iperf3s and exits) and release the connection. */
  close(): Promise<void>;
  /** Drop the connection at once, without waiting for anything (a host that stopped answering). */
  abort(): void;
  /** How the host was reached (the ssh transport says; the local one has nothing to say). */
  target?: SshTarget;
}

export interface OpenRequest {
  host: HostConfig;
  ssh: SshDefaults;
  options: DaemonOptions;
  /** How to bring a Node.js to a host without a usable one (ssh transport). */
  runtime?: RuntimeConfig;
  /** Called when a runtime was pushed to the host, with the bytes that went. */
  onRuntime?: (bytes: number) => void;
}

export interface Transport {
  readonly name: 'ssh' | 'local';
  open(req: OpenRequest): Promise<DaemonChannel>;
}

export { HostError };
