/** Writing results.json and results.csv; each file appears whole or not at all (temp + rename). */
import { stringify } from 'csv-stringify/sync';
import path from 'node:path';
import { ensureDir, writeAtomic, writePiecesAtomic } from './files.js';
import { jsonFilePieces } from './json-pieces.js';
import { removeJournal } from './journal.js';
import { pointText } from './campaign.js';
import type { ResultsDocument } from './types.js';

export const CSV_COLUMNS = [
  'run_id',
  'source',
  'destination',
  'instance',
  'round',
  'protocol',
  'status',
  'error_code',
  'error',
  'throughput_bps',
  'sent_bps',
  'retransmits',
  'bytes_sent',
  'bytes_received',
  'rtt_mean_us',
  'jitter_ms',
  'lost_packets',
  'lost_percent',
  'client_address',
  'client_port',
  'client_cpu',
  'client_pid',
  'server_address',
  'server_port',
  'server_cpu',
  'server_pid',
  'started_at',
  'ended_at',
  'client_iperf3_version',
  'server_iperf3_version',
  // Appended, not inserted, so that readers that go by position keep working.
  'plane',
  // A campaign's step (empty for a run of one step): its index, profile, sweep point (key=value;...) and repetition.
  'step',
  'profile',
  'point',
  'repetition',
] as const;

/** One row per instance, in source, destination, instance order (a campaign: step by step). */
export function csvRows(doc: ResultsDocument): Record<(typeof CSV_COLUMNS)[number], unknown>[] {
  const rows = [];
  const steps = doc.steps ?? [{ index: null, profile: null, point: {}, repetition: null, sources: doc.sources }];
  for (const step of steps) {
    const label = {
      step: step.index ?? '',
      profile: step.profile ?? '',
      point: pointText(step.point),
      repetition: step.repetition ?? '',
    };
    for (const [source, { destinations }] of Object.entries(step.sources)) {
      for (const [destination, pair] of Object.entries(destinations)) {
        for (const i of pair.instances) {
          rows.push({
            run_id: doc.run.id,
            source,
            destination,
            instance: i.instance,
            round: i.round,
            protocol: i.parameters.protocol,
            status: i.status,
            error_code: i.error?.code ?? '',
            error: i.error?.message ?? '',
            throughput_bps: i.metrics.throughput_bps ?? '',
            sent_bps: i.metrics.sent_bps ?? '',
            retransmits: i.metrics.retransmits ?? '',
            bytes_sent: i.metrics.bytes_sent ?? '',
            bytes_received: i.metrics.bytes_received ?? '',
            rtt_mean_us: i.metrics.rtt_mean_us ?? '',
            jitter_ms: i.metrics.jitter_ms ?? '',
            lost_packets: i.metrics.lost_packets ?? '',
            lost_percent: i.metrics.lost_percent ?? '',
            client_address: i.client?.address ?? '',
            client_port: i.client?.port ?? '',
            client_cpu: i.client?.cpu ?? '',
            client_pid: i.client?.pid ?? '',
            server_address: i.server?.address ?? '',
            server_port: i.server?.port ?? '',
            server_cpu: i.server?.cpu ?? '',
            server_pid: i.server?.pid ?? '',
            started_at: i.started_at ?? '',
            ended_at: i.ended_at ?? '',
            client_iperf3_version: i.client?.iperf3_version ?? '',
            server_iperf3_version: i.server?.iperf3_version ?? '',
            plane: i.plane,
            ...label,
          });
        }
      }
    }
  }
  return rows;
}

export function toCsv(doc: ResultsDocument): string {
  return stringify(csvRows(doc), { header: true, columns: [...CSV_COLUMNS] });
}

export interface WrittenFiles {
  json: string;
  csv: string;
}

/** Where the result files of an output directory are. */
export function resultFiles(dir: string): WrittenFiles {
  return { json: path.join(dir, 'results.json'), csv: path.join(dir, 'results.csv') };
}

/**
 * Write both result files into `dir` (created if needed); the journal is then redundant.
 * results.json is compact (a third of the size at scale, and what tools read); `pretty` indents it
 * for people.
 */
export async function writeResults(doc: ResultsDocument, dir: string, o: { pretty?: boolean } = {}): Promise<WrittenFiles> {
  await ensureDir(dir);
  const files = resultFiles(dir);
  // Walked down to each instance (run, sources, a source, destinations, a pair, instances):
  // never the whole document as one string.
  await writePiecesAtomic(files.json, jsonFilePieces(doc, 6, o.pretty ? 2 : 0));
  await writeAtomic(files.csv, toCsv(doc));
  await removeJournal(dir);
  return files;
}
