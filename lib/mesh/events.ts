/** What runMesh reports while it works, for progress displays and other automation. */
import type { HelloResult, InstanceRecord } from '../protocol/messages.js';
import type { ErrorInfo, RunSummary } from '../results/types.js';

export type MeshEvent =
  | { type: 'host-connecting'; host: string }
  | { type: 'host-retry'; host: string; attempt: number; error: ErrorInfo }
  | { type: 'host-ready'; host: string; hello: HelloResult }
  | { type: 'host-failed'; host: string; error: ErrorInfo }
  | { type: 'servers-listening'; host: string; count: number }
  | { type: 'clients-started'; host: string; count: number; round: number }
  /** Per second; throughput_bps sums the latest interval of every live client (iperf3 >= 3.17). */
  | { type: 'test-running'; elapsed_s: number; duration_s: number; throughput_bps: number | null }
  /** One interval of one instance ("src>dst#k"), while it runs (iperf3 >= 3.17). */
  | { type: 'interval'; id: string; end_s: number; bits_per_second: number }
  | { type: 'host-collected'; host: string; records: InstanceRecord[] }
  | { type: 'done'; summary: RunSummary };

export type MeshEventListener = (event: MeshEvent) => void;
