import type { TestParams, Tuning } from '../shared/options.js';
import type { Thresholds } from '../results/verdict/thresholds.js';

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
  /**
   * Seconds a host's daemon may stay silent, while its SSH connection still answers, before the
   * host counts as lost (plus 250 ms per iperf3 process it was asked to start): a saturated host
   * is slow, not dead (lib/protocol/liveness.ts).
   */
  lost_after: number;
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
  /**
   * OpenSSH client config to resolve SSH targets through (absolute), or null to ignore it.
   * Defaults to ~/.ssh/config when that file exists.
   */
  config: string | null;
  /** Jump hosts, as ProxyJump writes them ("user@bastion:22,inner"), first hop first. */
  jump?: string;
}

/** The [ssh] keys a host's SSH settings may have taken from the inventory: these win over the OpenSSH config. */
export type SshKey = 'user' | 'port' | 'identity_file' | 'known_hosts' | 'connect_timeout' | 'accept_new_host_keys' | 'jump';

/** One host's SSH settings: [ssh] defaults with the host's own keys over them. */
export type HostSsh = Omit<SshDefaults, 'concurrency'> & {
  /** Which keys the inventory set (in [ssh] or for the host), as opposed to defaults. */
  set: SshKey[];
};

/** [runtime]: what runs the daemon on the hosts. */
export interface RuntimeConfig {
  /** "auto": bring a Node.js runtime to hosts without a usable one; "never": fail them (no_node). */
  push_node: 'auto' | 'never';
  /** Cache a pushed runtime under the login's cache directory, by content hash, for later runs. */
  keep_runtime: boolean;
  /** Node binaries (local paths) to push to hosts of other platforms, by "<os>-<arch>", e.g. "linux-arm64". */
  binaries: Record<string, string>;
}

export interface HostConfig {
  name: string;
  /** Where peers reach this host's iperf3 servers and where its clients bind (-B): its data address. */
  address: string;
  /** Where SSH goes: an IP, a DNS name or an OpenSSH config alias (defaults to address). */
  ssh_host: string;
  /** Further data addresses, one per plane (rail), by plane name. */
  planes: Record<string, string>;
  /** Free labels (an Ansible inventory's groups), carried into the results. */
  labels?: string[];
  /** Remote iperf3 binary; "iperf3" finds it on the remote PATH. */
  iperf3: string;
  /** Remote node binary; "node" finds it on the remote PATH. */
  node: string;
  /** This host's SSH settings: [ssh] defaults with the host's own keys over them. */
  ssh: HostSsh;
  /** CPUs its iperf3s may be pinned to (e.g. "2-15"); all usable ones when absent. */
  cpus?: number[];
  /** Most iperf3 processes it may run at once. */
  max_processes?: number;
  /** Its own client settings, over the [test] table's, for the clients it runs. */
  test: Partial<Tuning>;
}

export type { Schedule, TestParams, Tuning } from '../shared/options.js';
import type { RawProfile } from './profiles.js';

export interface Inventory {
  /** File it came from, if any (used in messages). */
  source?: string;
  transport: 'ssh' | 'local';
  ssh: SshDefaults;
  runtime: RuntimeConfig;
  test: TestParams;
  /** What each pair must reach ([thresholds] over the defaults). */
  thresholds: Thresholds;
  hosts: HostConfig[];
  /** [profiles.NAME] as written (lib/inventory/profiles.ts resolves them, with the built-in ones). */
  profiles?: Record<string, RawProfile>;
  /** What [test] profile and repeat, and [sweep], ask for; the run's options add to it. */
  campaign?: CampaignConfig;
}

export interface CampaignConfig {
  profiles: string[];
  /** Option -> the values it takes, read as [test] reads them. */
  sweep: Record<string, unknown[]>;
  repeat: number;
}
