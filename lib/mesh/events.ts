/** What runMesh reports while it works, for progress displays and other automation. */
import type { HelloResult, InstanceRecord, InstanceRole } from '../protocol/messages.js';
import type { ErrorInfo, RunSummary } from '../results/types.js';

export type MeshEvent =
  | { type: 'host-connecting'; host: string }
  | { type: 'host-retry'; host: string; attempt: number; error: ErrorInfo }
  /** The host had no usable Node.js: a runtime was pushed to it, this many (compressed) bytes. */
  | { type: 'host-runtime'; host: string; bytes: number }
  | { type: 'host-ready'; host: string; hello: HelloResult }
  | { type: 'host-failed'; host: string; error: ErrorInfo }
  /** Its daemon has been silent this long while its SSH connection is up: busy, waited for up to lost_after_s. */
  | { type: 'host-slow'; host: string; silent_s: number; lost_after_s: number }
  | { type: 'servers-listening'; host: string; count: number }
  /** The instant (controller clock) every client of a round is released at, and the lead to it. */
  | { type: 'round-scheduled'; round: number; start_at: string; lead_ms: number; hosts: string[]; flows: number }
  | { type: 'clients-started'; host: string; count: number; round: number }
  /** Per second; throughput_bps sums the latest interval of every live client (iperf3 >= 3.17). */
  | { type: 'test-running'; elapsed_s: number; duration_s: number; throughput_bps: number | null }
  /** One interval of one instance ("src>dst#k"), while it runs (iperf3 >= 3.17). */
  | { type: 'interval'; id: string; end_s: number; bits_per_second: number }
  /** Per second after a round's test, while results are awaited: the hosts still waited for. */
  | { type: 'collecting'; waiting: string[]; overdue_s: number }
  /** One host's instances of a round (clients, then servers), or all it had after an interrupt. */
  | { type: 'host-collected'; host: string; role: InstanceRole | 'all'; records: InstanceRecord[] }
  /** A campaign's step begins (profiles, --sweep, --repeat): which of how many, and what it measures. */
  | { type: 'step-started'; step: number; steps: number; profile: string | null; point: Record<string, unknown>; repetition: number }
  /** A line the host's daemon (or its shell) wrote to stderr. */
  | { type: 'daemon-stderr'; host: string; line: string }
  /** Something the user should know that fails nothing (an MTU mismatch, traffic on the wrong interface); also in run.warnings. */
  | { type: 'warning'; message: string }
  /** The caller's listener threw or rejected (once per run; the run went on without it). */
  | { type: 'listener-error'; message: string }
  | { type: 'done'; summary: RunSummary };

/** What it returns is ignored, except a promise: its rejection counts as a throw. */
export type MeshEventListener = (event: MeshEvent) => unknown;

/**
 * The caller's listener, made harmless to the run: whatever it throws or rejects is caught. The
 * first failure is reported once (to `warn`, and as a listener-error event); later ones are
 * dropped, so a broken listener cannot flood anything.
 */
export function guardListener(listener: MeshEventListener | undefined, warn: (message: string) => void): (event: MeshEvent) => void {
  if (!listener) return () => {};
  let failed = false;
  const call = (event: MeshEvent, onError: (err: unknown) => void) => {
    try {
      const r = listener(event);
      if (r instanceof Promise) r.then(undefined, onError);
    } catch (err) {
      onError(err);
    }
  };
  const report = (event: MeshEvent) => (err: unknown) => {
    if (failed) return;
    failed = true;
    const message = `the onEvent listener threw on a "${event.type}" event: ${err instanceof Error ? err.message : String(err)}; the run went on without it for that event`;
    warn(message);
    call({ type: 'listener-error', message }, () => {});
  };
  return (event) => call(event, report(event));
}
