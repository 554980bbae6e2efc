/**
 * Assemble the four-level results document (run -> source -> destination -> instance) from what
 * the daemons returned. Pure: no I/O, so it is easy to test and to reuse on partial data.
 */
import type { InstanceRecord } from '../protocol/messages.js';
import { emptyMetrics, iperfError, iperfVersionOf, localPort, tcpMetrics } from './metrics.js';
import {
  EndpointResult,
  ErrorInfo,
  HostResult,
  InstanceResult,
  PairResult,
  PairStatus,
  RESULTS_FORMAT,
  ResultsDocument,
  RunParameters,
  RunSummary,
} from './types.js';

export interface BuildInput {
  runId: string;
  startedAt: Date;
  finishedAt: Date;
  interrupted: boolean;
  parameters: RunParameters;
  hosts: HostResult[];
  /** Every instance record collected, clients and servers, from every host. */
  records: InstanceRecord[];
  /** Why a host's clients could not be started or collected, if so. */
  clientErrors: Map<string, ErrorInfo>;
}

export function instanceId(source: string, destination: string, instance: number): string {
  return `${source}>${destination}#${instance}`;
}

const iso = (ms: number | null | undefined): string | null => (typeof ms === 'number' ? new Date(ms).toISOString() : null);

export function buildResults(input: BuildInput): ResultsDocument {
  const byKey = new Map(input.records.map((r) => [`${r.role}:${r.id}`, r]));
  const hostsByName = new Map(input.hosts.map((h) => [h.name, h]));
  const sources: ResultsDocument['sources'] = {};
  for (const src of input.hosts) {
    const destinations: Record<string, PairResult> = {};
    for (const dst of input.hosts) {
      if (dst.name === src.name) continue;
      const ids = Array.from({ length: input.parameters.processes }, (_, k) => instanceId(src.name, dst.name, k));
      const measured = ids.some((id) => byKey.has(`client:${id}`) || byKey.has(`server:${id}`));
      const down = [src, dst].find((h) => h.status !== 'ok');
      // A host that never joined: its pairs were skipped. One lost mid-run: its pairs ran and failed.
      if (down && !measured) {
        destinations[dst.name] = skippedPair(down);
        continue;
      }
      const blame = down?.error ?? input.clientErrors.get(src.name);
      const instances = ids.map((id, k) => instanceResult(k, byKey.get(`client:${id}`), byKey.get(`server:${id}`), hostsByName, blame));
      destinations[dst.name] = { summary: pairSummary(instances), instances };
    }
    sources[src.name] = { destinations };
  }
  return {
    format: RESULTS_FORMAT,
    run: {
      id: input.runId,
      started_at: input.startedAt.toISOString(),
      finished_at: input.finishedAt.toISOString(),
      interrupted: input.interrupted,
      parameters: input.parameters,
      hosts: input.hosts,
    },
    summary: runSummary(input.hosts, sources),
    sources,
  };
}

function skippedPair(down: HostResult): PairResult {
  const error: ErrorInfo = {
    code: down.error?.code ?? 'host_failed',
    message: `host ${down.name} could not take part: ${down.error?.message ?? 'failed'}`,
  };
  return {
    summary: { status: 'skipped', error, throughput_bps: 0, sent_bps: 0, retransmits: 0, instances: 0, instances_ok: 0 },
    instances: [],
  };
}

function endpoint(r: InstanceRecord, hosts: Map<string, HostResult>, port: number | null): EndpointResult {
  const host = r.role === 'client' ? r.source : r.destination;
  return {
    host,
    address: hosts.get(host)?.address ?? r.address,
    daemon_pid: r.daemon_pid,
    pid: r.pid,
    cpu: r.cpu,
    port,
    exit_code: r.exit_code,
    signal: r.signal,
    stderr: r.stderr,
    iperf3_version: iperfVersionOf(r.iperf3) ?? hosts.get(host)?.iperf3_version ?? null,
    started_at: iso(r.started_at),
    ended_at: iso(r.ended_at),
  };
}

function instanceResult(
  k: number,
  client: InstanceRecord | undefined,
  server: InstanceRecord | undefined,
  hosts: Map<string, HostResult>,
  blame: ErrorInfo | undefined,
): InstanceResult {
  const metrics = client ? tcpMetrics(client.iperf3) : emptyMetrics();
  const result = outcome(client, server, blame, metrics.throughput_bps);
  return {
    instance: k,
    status: result.status,
    // When a host of the pair failed, that is the reason, whatever iperf3 said about it.
    error: result.error && blame ? blame : result.error,
    started_at: iso(client?.started_at),
    ended_at: iso(client?.ended_at),
    client: client ? endpoint(client, hosts, localPort(client.iperf3)) : null,
    server: server ? { ...endpoint(server, hosts, server.port), iperf3: server.iperf3 } : null,
    metrics,
    iperf3: client?.iperf3 ?? null,
  };
}

/** An instance is ok only when its client exited cleanly with a complete, error-free result. */
function outcome(
  client: InstanceRecord | undefined,
  server: InstanceRecord | undefined,
  blame: ErrorInfo | undefined,
  throughput: number | null,
): { status: 'ok' | 'failed'; error: ErrorInfo | null } {
  const fail = (code: string, message: string) => ({ status: 'failed' as const, error: { code, message } });
  if (!client) {
    if (blame) return { status: 'failed', error: blame };
    return server ? fail('no_client', 'the client was never started') : fail('no_server', 'no server was started for this instance');
  }
  if (client.timed_out) {
    return fail('timeout', `iperf3 client still ran well past its ${client.argv[client.argv.indexOf('-t') + 1]} s duration; killed. ${client.stderr.trim()}`.trim());
  }
  if (client.state === 'running') return fail('timeout', 'the client was still running when results were collected');
  const err = iperfError(client.iperf3);
  if (err) return fail('iperf3', err);
  if (client.exit_code !== 0) {
    return fail('iperf3', `iperf3 exited with ${client.signal ?? client.exit_code}: ${client.stderr.trim() || 'no message'}`);
  }
  if (throughput === null) return fail('iperf3', 'iperf3 printed no end-of-test summary');
  return { status: 'ok', error: null };
}

function pairSummary(instances: InstanceResult[]): PairResult['summary'] {
  const ok = instances.filter((i) => i.status === 'ok');
  const status: PairStatus = ok.length === instances.length ? 'ok' : ok.length > 0 ? 'partial' : 'failed';
  const sum = (f: (i: InstanceResult) => number | null) => ok.reduce((a, i) => a + (f(i) ?? 0), 0);
  return {
    status,
    error: status === 'ok' ? null : (instances.find((i) => i.error)?.error ?? null),
    throughput_bps: sum((i) => i.metrics.throughput_bps),
    sent_bps: sum((i) => i.metrics.sent_bps),
    retransmits: sum((i) => i.metrics.retransmits),
    instances: instances.length,
    instances_ok: ok.length,
  };
}

function runSummary(hosts: HostResult[], sources: ResultsDocument['sources']): RunSummary {
  const pairs = Object.values(sources).flatMap((s) => Object.values(s.destinations));
  const count = (st: PairStatus) => pairs.filter((p) => p.summary.status === st).length;
  const instances = pairs.flatMap((p) => p.instances);
  const instancesOk = instances.filter((i) => i.status === 'ok').length;
  return {
    hosts: hosts.length,
    hosts_ok: hosts.filter((h) => h.status === 'ok').length,
    hosts_failed: hosts.filter((h) => h.status !== 'ok').length,
    pairs: pairs.length,
    pairs_ok: count('ok'),
    pairs_partial: count('partial'),
    pairs_failed: count('failed'),
    pairs_skipped: count('skipped'),
    instances: instances.length,
    instances_ok: instancesOk,
    instances_failed: instances.length - instancesOk,
    aggregate_throughput_bps: pairs.reduce((a, p) => a + p.summary.throughput_bps, 0),
  };
}
