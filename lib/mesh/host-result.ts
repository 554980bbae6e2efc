/**
 * One host's entry in the results, built in one place from what the run knows of it: its
 * config, its session (hello, clock, heartbeat latency, health) and its failure, if any.
 */
import type { HostConfig } from '../inventory/types.js';
import type { HostResult } from '../results/types.js';
import type { ErrorInfo } from '../shared/errors.js';
import type { HostSession } from './session.js';

export function hostResult(config: HostConfig, session: HostSession | undefined, failure: ErrorInfo | undefined): HostResult {
  const result: HostResult = { name: config.name, address: config.address, ssh_host: config.ssh_host, ...(config.labels ? { labels: config.labels } : {}), status: failure ? 'failed' : 'ok', error: failure ?? null };
  if (!session) return result;
  const { protocol: _p, time_ms: _t, ...facts } = session.hello;
  return {
    ...result,
    ...facts,
    clock_offset_ms: session.clock.offset_ms,
    clock_rtt_ms: session.clock.rtt_ms,
    rpc_latency_ms: session.latency(),
    health: session.health,
    timings: session.timings,
    ...(session.target ? { ssh: session.target } : {}),
    ...(session.interfaces ? { interfaces: session.interfaces } : {}),
  };
}
