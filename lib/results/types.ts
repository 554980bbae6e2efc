/** The results document (results.json), as described by schemas/results.schema.json. */
import type { HealthSample, HelloResult, IperfOptions } from '../protocol/messages.js';
import type { ErrorInfo } from '../shared/errors.js';
import type { ParameterValues } from '../shared/options.js';
import type { Thresholds } from './verdict/thresholds.js';

export const RESULTS_FORMAT = 'meshperf.results/v1';

export type { ErrorCode, ErrorInfo } from '../shared/errors.js';

/** The run's options (every one of lib/shared/options.ts), with what was resolved. */
export type RunParameters = Omit<ParameterValues, 'processes'> & {
  /** Resolved number of iperf3 processes per ordered pair. */
  processes: number;
  /** What was asked for: a number or "auto". */
  processes_requested: number | 'auto';
  transport: 'ssh' | 'local';
  rounds: number;
  /** The planes measured: "default" (every host's address) or the --plane names. */
  planes: string[];
  /** What each pair had to reach (null: not checked). */
  thresholds: Thresholds;
  /** Failing pairs were measured again alone. */
  retest: boolean;
  /** Servers were started before each round, not all at the start: all at once would not fit a host's port_range or max_processes. */
  servers_per_round?: boolean;
};

export interface RoundResult {
  round: number;
  /** The instant every client of the round was asked to start (controller clock). */
  scheduled_at: string;
  flows: number;
  /**
   * Latest minus earliest real start of its flows (each client's first data stream, seen by its
   * daemon), in controller time, ms: how far apart the round's tests really began.
   */
  start_spread_ms: number | null;
  /** Latest minus earliest wake of its held servers (the signals of the instant), controller time, ms. */
  release_spread_ms: number | null;
  /** When every flow of the round ran at once: latest real start to earliest real end; `seconds` 0 when they never overlapped. */
  window: { start: string; end: string; seconds: number } | null;
  /** What the mesh carried in this round: the sum of its instances' throughput, all at once. */
  aggregate_throughput_bps: number;
}

/** A host's interface that holds one of its test addresses, and what went through it during the run. */
export interface HostInterface {
  plane: string;
  /** The data address as written; `ip` is what a name resolved to on the host. */
  address: string;
  ip?: string;
  name: string;
  mtu: number | null;
  speed_mbps: number | null;
  numa_node: number | null;
  driver: string | null;
  /** Bytes it received and transmitted from before the first round to after the last; null when not read. */
  rx_bytes: number | null;
  tx_bytes: number | null;
}

export interface HostResult extends Partial<Omit<HelloResult, 'protocol' | 'time_ms'>> {
  name: string;
  address: string;
  /** Where SSH went, as written (an IP, a name, an OpenSSH alias). */
  ssh_host?: string;
  /** Its labels from the inventory (an Ansible inventory's groups). */
  labels?: string[];
  /** The SSH connection as made: resolved target, login and jump hosts. */
  ssh?: SshTarget;
  /** Its test interfaces, one per plane it took part in. */
  interfaces?: HostInterface[];
  status: 'ok' | 'failed';
  error: ErrorInfo | null;
  /** Host clock minus controller clock, ms, from the least-round-trip ping. */
  clock_offset_ms?: number;
  clock_rtt_ms?: number;
  /** Round trips of the controller's heartbeat pings during the run. */
  rpc_latency_ms?: { count: number; min_ms: number; mean_ms: number; max_ms: number } | null;
  /** Samples taken during the test: iperf3 processes, CPU and memory of host and daemon. */
  health?: HealthSample[];
  /** Its own steps, ms: connect (SSH up, Node.js found or pushed, daemon sent), boot (its ready line), hello, servers, clock. */
  timings?: Record<string, number>;
  /** Its test connections (instances) as client and as server, and the share that worked (results/connections.ts). */
  connections?: HostConnections;
}

export interface ConnectionCounts {
  total: number;
  ok: number;
  failed: number;
  interrupted: number;
}

export interface HostConnections {
  /** Instances whose iperf3 client ran on this host. */
  as_client: ConnectionCounts;
  /** Instances whose iperf3 server ran on this host. */
  as_server: ConnectionCounts;
  /** ok / total over both roles; null when the host took part in none. */
  success_rate: number | null;
}

export interface SshTarget {
  /** What was connected to after the OpenSSH config (HostName), and the IP that resolved to. */
  host: string;
  ip: string | null;
  port: number;
  user: string;
  /** Jump hosts passed through, first hop first ("user@host:port"). */
  jump: string[];
  /** Bytes of a Node.js runtime pushed to this host (0 when its own node ran the daemon). */
  runtime_pushed_bytes?: number;
}

export interface Metrics {
  /** Bits per second received by the server: the number that counts. */
  throughput_bps: number | null;
  sent_bps: number | null;
  bytes_sent: number | null;
  bytes_received: number | null;
  retransmits: number | null;
  rtt_min_us: number | null;
  rtt_mean_us: number | null;
  rtt_max_us: number | null;
  cpu_local_percent: number | null;
  cpu_remote_percent: number | null;
  /** UDP only (null for TCP). */
  jitter_ms: number | null;
  lost_packets: number | null;
  packets: number | null;
  lost_percent: number | null;
  out_of_order: number | null;
}

export interface EndpointResult {
  host: string;
  address: string;
  daemon_pid: number | null;
  pid: number | null;
  cpu: number | null;
  /** Server: the port it listened on. Client: its local (ephemeral) port. */
  port: number | null;
  exit_code: number | null;
  signal: string | null;
  stderr: string;
  iperf3_version: string | null;
  started_at: string | null;
  ended_at: string | null;
}

export interface InstanceResult {
  instance: number;
  /** Round of the schedule it ran in (0 for schedule "all"). */
  round: number;
  /** The plane (rail) it ran on: "default" is the hosts' `address`. */
  plane: string;
  /** With bidir: the id of the instance ("dst>src#k") whose reverse direction this is. */
  bidir_of: string | null;
  /** The options its client ran with. */
  parameters: IperfOptions;
  /** The instant its client was asked to start (controller clock), and the offset applied. */
  scheduled_at: string | null;
  clock_offset_ms: number | null;
  status: InstanceStatus;
  error: ErrorInfo | null;
  /** When its traffic really began and ended (controller clock): its first data stream, and that plus the seconds iperf3 measured. */
  started_at: string | null;
  ended_at: string | null;
  /** Share (0 to 1) of its test that fell inside its round's common window; null when unknown. */
  in_window: number | null;
  client: EndpointResult | null;
  server: (EndpointResult & { iperf3: unknown }) | null;
  metrics: Metrics;
  /** The client's iperf3 -J document as iperf3 printed it. */
  iperf3: unknown;
}

/** ok: complete; interrupted: cut short by an interrupt, measured until then; failed. */
export type InstanceStatus = 'ok' | 'interrupted' | 'failed';

export type PairStatus = 'ok' | 'interrupted' | 'partial' | 'failed' | 'skipped';

export interface PairSummary {
  status: PairStatus;
  error: ErrorInfo | null;
  /** Sum of the instances' received bits per second. */
  throughput_bps: number;
  sent_bps: number;
  /** TCP: retransmits summed, RTT over the sending streams (min, mean of means, max); null for UDP. */
  retransmits: number | null;
  rtt_min_us: number | null;
  rtt_mean_us: number | null;
  rtt_max_us: number | null;
  /** UDP: packets lost of those sent, summed; lost_percent from the sums; the worst instance's jitter; null for TCP. */
  lost_packets: number | null;
  packets: number | null;
  lost_percent: number | null;
  jitter_ms: number | null;
  out_of_order: number | null;
  instances: number;
  instances_ok: number;
  /** The least share of its instances' tests that fell inside their round's common window; null when unknown. */
  in_window: number | null;
  /** Against the run's thresholds (lib/verdict): pass, or fail with the reasons. */
  verdict?: Verdict;
  reasons?: VerdictReason[];
  /** When more than one plane ran: this pair's summary on each plane. */
  planes?: Record<string, PairSummary>;
  /** A campaign step with repetitions: each metric over the step's repetitions (the same in each of them). */
  stats?: Partial<Record<StatMetric, Stats>>;
  /** Over the repetitions its throughput varies by more than UNSTABLE_CV (coefficient of variation), or its loss by more than max_loss_percent: a flapping link. */
  unstable?: boolean;
  /** With repetitions: its verdict on its medians over the step's repetitions (median_summary). */
  median_verdict?: Verdict;
  /** --find-knee: the highest rate the pair offered with its loss within max_loss_percent (null: not even the lowest tried). */
  knee_bps?: number | null;
}

export type StatMetric = 'throughput_bps' | 'lost_percent' | 'jitter_ms' | 'rtt_mean_us';

export interface PairResult {
  summary: PairSummary;
  instances: InstanceResult[];
  /** With --retest, when the pair failed: the same pair measured again alone, after the mesh. */
  retest?: { summary: PairSummary; instances: InstanceResult[] };
}

export type Verdict = 'pass' | 'fail';

/** One threshold a pair failed: which, the pair's value and the limit, in words. */
export interface VerdictReason {
  /** A key of [thresholds], or "status" when the pair was not (fully) measured. */
  threshold: string;
  value: number | null;
  limit: number | null;
  message: string;
}

/** A likely cause of failing pairs, with what points at it. */
export interface Suspect {
  kind: 'host' | 'group' | 'link';
  /** kind host: the host, and which way it fails. */
  host?: string;
  direction?: 'egress' | 'ingress' | 'both';
  /** kind link: that pair, that way. */
  src?: string;
  dst?: string;
  /** kind group: the block from hosts labelled key=src to hosts labelled key=dst. */
  group?: { key: string; src: string; dst: string };
  evidence: string;
  /** 0 to 1: how much of the failing it explains and how clearly. */
  confidence: number;
  /** Failing pairs it explains. */
  pairs: number;
  /** With --retest: the pairs passed alone (contention), failed alone too (broken), or some of each. */
  retest?: 'contention' | 'broken' | 'mixed';
}

export interface RunSummary {
  hosts: number;
  hosts_ok: number;
  hosts_failed: number;
  pairs: number;
  pairs_ok: number;
  pairs_partial: number;
  pairs_failed: number;
  pairs_skipped: number;
  pairs_interrupted: number;
  instances: number;
  instances_ok: number;
  instances_failed: number;
  instances_interrupted: number;
  /**
   * The most the mesh carried at once: the busiest round's aggregate. Under "all" that is every
   * pair together; under "rounds" and "pairwise" the rounds never overlapped, so their sum
   * (total_throughput_bps) is no figure of the network.
   */
  aggregate_throughput_bps: number;
  /** Sum of every pair's throughput, over all rounds. */
  total_throughput_bps: number;
  /** Pairs that ran (pairs − pairs_skipped): pair_success_rate's denominator. */
  pairs_measured: number;
  /** instances_ok / instances, pairs_ok / pairs_measured, hosts_failed / hosts; null when none. */
  instance_success_rate: number | null;
  pair_success_rate: number | null;
  host_failure_rate: number;
  /** The largest start spread of any round, ms. */
  start_spread_ms: number | null;
  /** Pairs whose verdict is pass and fail (a pair not measured fails). */
  pairs_pass: number;
  pairs_fail: number;
  /** The run's median pair, the reference of min_percent_of_median. */
  median_pair_throughput_bps: number | null;
  /** Likely causes of the failing pairs, most likely first. */
  suspects: Suspect[];
}

export interface ResultsDocument {
  format: typeof RESULTS_FORMAT;
  run: {
    id: string;
    started_at: string;
    finished_at: string;
    interrupted: boolean;
    parameters: RunParameters;
    hosts: HostResult[];
    rounds: RoundResult[];
    /** Things worth knowing that failed nothing: a listener that threw, a journal write that failed. */
    warnings: string[];
    /**
     * Where the time went, phase -> ms: connect (SSH, runtime, daemon boot and hello of every
     * host), interfaces, plan, servers, clock, then over the rounds prepare (clients created and
     * held), lead (release to start instant), test, collect; retest, disconnect, build, total.
     */
    timings: Record<string, number>;
    /**
     * Ordered pairs of the hosts (N·(N−1)) and those this run has in `sources`: all of them, but
     * for a sample schedule (and pairs that share no plane). A pair absent was not measured.
     */
    coverage: { possible_pairs: number; pairs: number; fraction: number };
    /** A campaign (profiles, --sweep, --repeat): its steps planned and run. Absent for a run of one step. */
    campaign?: { steps: number; steps_run: number; profiles: string[]; sweep: Record<string, unknown[]>; repeat: number };
  };
  /** A campaign: the first step's (so that a reader of one-step files reads a whole run); each step's in `steps`. */
  summary: RunSummary;
  sources: Record<string, { destinations: Record<string, PairResult> }>;
  /** A campaign's steps, in the order they ran, each with its own 4 levels (results/campaign.ts). */
  steps?: StepResult[];
}

/** Which step of a campaign: its profile, its sweep point, its repetition. */
export interface StepLabel {
  index: number;
  profile: string | null;
  point: Record<string, unknown>;
  repetition: number;
  /** Steps in the campaign (in the journal's plan). */
  of?: number;
}

export interface StepResult extends StepLabel {
  interrupted: boolean;
  parameters: RunParameters;
  rounds: RoundResult[];
  summary: RunSummary;
  sources: Record<string, { destinations: Record<string, PairResult> }>;
  /** With repetitions: the verdicts and suspects over all of this step's, judged on each pair's medians (the same in each repetition). */
  median_summary?: Pick<RunSummary, 'pairs_pass' | 'pairs_fail' | 'median_pair_throughput_bps' | 'suspects'> & { repetitions: number };
}

/** One metric of a pair over the repetitions of its step (results/stats.ts). */
export interface Stats {
  n: number;
  median: number;
  min: number;
  max: number;
  stddev: number;
  /** stddev / mean; null when the mean is 0. */
  cv: number | null;
  /** 95 % confidence interval of the mean (Student's t); equal to the mean when n is 1. */
  ci95_low: number;
  ci95_high: number;
}
