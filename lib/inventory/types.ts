import type { TestParams, Tuning } from '../shared/options.js';

/** The inventory after loading: every default filled in, every value checked. */

export interface SshDefaults {
  user: string;
  port: number;
  /** Absolute local path, or undefined to use ssh-agent, then ~/.ssh/id_*. */
  identity_file?: string;
  /** Absolute local path. */
  known_hosts: string;
  /** Seconds to wait for a TCP connect and SSH handshake. */
  connect_timeout: number;
  /** Hosts connected to at once (OpenSSH throttles many simultaneous handshakes). */
  concurrency: number;
  /** Tries to connect, with backoff, on refused, timeout or throttled handshakes. */
  connect_attempts: number;
  /** Like OpenSSH's StrictHostKeyChecking=accept-new: add unknown host keys, refuse changed ones. */
  accept_new_host_keys: boolean;
  /**
   * Passphrase of an encrypted identity_file. Never read from the inventory file (the schema has
   * no such key): set by the program, e.g. the CLI's prompt. MESHPERF_SSH_PASSPHRASE otherwise.
   */
  passphrase?: string;
}

export interface HostConfig {
  name: string;
  /** Where peers reach this host's iperf3 servers; also its SSH target. */
  address: string;
  /** Remote iperf3 binary; "iperf3" finds it on the remote PATH. */
  iperf3: string;
  /** Remote node binary; "node" finds it on the remote PATH. */
  node: string;
  /** This host's SSH settings: [ssh] defaults with the host's own keys over them. */
  ssh: Omit<SshDefaults, 'concurrency'>;
  /** CPUs its iperf3s may be pinned to (e.g. "2-15"); all usable ones when absent. */
  cpus?: number[];
  /** Most iperf3 processes it may run at once. */
  max_processes?: number;
  /** Its own client settings, over the [test] table's, for the clients it runs. */
  test: Partial<Tuning>;
}

export type { Schedule, TestParams, Tuning } from '../shared/options.js';

export interface Inventory {
  /** File it came from, if any (used in messages). */
  source?: string;
  transport: 'ssh' | 'local';
  ssh: SshDefaults;
  test: TestParams;
  hosts: HostConfig[];
}
