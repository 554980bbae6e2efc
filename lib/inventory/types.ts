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
}

export interface TestParams {
  /** Seconds per test (iperf3 -t). */
  duration: number;
  /** Streams per iperf3 process (iperf3 -P). */
  parallel: number;
  /** iperf3 processes per ordered pair, or "auto" to size from the hosts' CPUs. */
  processes: number | 'auto';
  port_range: [number, number];
}

export interface Inventory {
  /** File it came from, if any (used in messages). */
  source?: string;
  transport: 'ssh' | 'local';
  ssh: SshDefaults;
  test: TestParams;
  hosts: HostConfig[];
}
