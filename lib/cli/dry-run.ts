/** --dry-run for people: the plan, said plainly, before anything connects. */
import type { DryRun } from '../index.js';

const bytes = (b: number) => (b >= 1e12 ? `${(b / 1e12).toFixed(2)} TB` : b >= 1e9 ? `${(b / 1e9).toFixed(2)} GB` : `${(b / 1e6).toFixed(1)} MB`);
const duration = (s: number) => (s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 120 ? `${Math.round(s / 60)} min` : `${s} s`);

export function formatDryRun(d: DryRun): string {
  const sample = d.sample ? ` (${d.sample.peers} peers per round, ${d.sample.rounds} round${d.sample.rounds === 1 ? '' : 's'}, seed ${d.sample.seed})` : '';
  const auto = d.processes === 'auto' ? 'auto: sized at connect from each host\'s CPUs; the figures below assume 1' : String(d.processes);
  const percent = d.possible_pairs ? ` (${Math.round((d.ordered_pairs / d.possible_pairs) * 1000) / 10} %)` : '';
  return [
    'dry run: nothing connected, nothing started',
    `hosts: ${d.hosts}, schedule ${d.schedule}${sample}, planes ${d.planes.join(', ')}`,
    `ordered pairs: ${d.ordered_pairs} of ${d.possible_pairs}${percent}`,
    `rounds: ${d.rounds}`,
    `iperf3 processes per pair: ${auto}`,
    `iperf3 instances: ${d.instances} clients and as many servers`,
    `busiest host: ${d.per_host.servers} servers (ports)${d.servers_per_round ? ' per round, started before each round (all at once would not fit its port_range or max_processes)' : ''}, ${d.per_host.clients_at_once} clients at once, ${d.per_host.processes_at_once} iperf3 processes`,
    ...(d.campaign
      ? [`campaign: ${d.campaign.steps} steps = ${d.campaign.profiles} profile${d.campaign.profiles === 1 ? '' : 's'} × ${d.campaign.points} sweep point${d.campaign.points === 1 ? '' : 's'} × ${d.campaign.repeat} repetition${d.campaign.repeat === 1 ? '' : 's'}, ${d.campaign.rounds} rounds in all, over one connection to each host (the figures above: its first step)`,
         `test time: ${duration(d.test_s)} in all; expected wall time about ${duration(d.expected_s)}`]
      : [`test time: ${d.rounds} × ${d.test_s / Math.max(1, d.rounds)} s = ${duration(d.test_s)}; expected wall time about ${duration(d.expected_s)}`]),
    d.traffic_bytes
      ? `traffic: ${bytes(d.traffic_bytes.total)} in all, ${bytes(d.traffic_bytes.busiest_host)} sent by the busiest host`
      : 'traffic: TCP without --bitrate sends as much as the network carries (no estimate)',
  ].join('\n');
}
