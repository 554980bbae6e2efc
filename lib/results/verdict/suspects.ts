/**
 * The culprit, named: from the verdicts of a mesh, which host (and which way: egress, ingress or
 * both), which group of hosts, or which single link explains the failing pairs.
 *
 * A bad NIC shows as a low row (what it sends) and/or a low column (what it receives) of the
 * matrix; a bad link as one low cell whose row and column are otherwise fine; a bad uplink
 * between racks as a low block between two groups. Causes are taken greedily, the one that
 * explains the most failing pairs first (a host or a group), and the pairs it explains are set
 * aside before the next is looked for, so that a bad host does not also make each of its peers look bad.
 * TCP couples the two ways (a shaped egress delays the ACKs of what the host receives), so the
 * way is judged by how much less one side moves than the other, not by which side fails.
 */
import type { HostResult, PairResult, ResultsDocument, Suspect } from '../types.js';
import { hasReading, median, pairsOf, rate } from './judge.js';

/**
 * The way a host fails is read from what each side moves on average: a NIC or a link caps the
 * total a host sends or receives, and the mean of a side is that total per pair. The best pair
 * of a side is no good measure: the capped total is shared unevenly (in the lab the best of four
 * shaped pairs read 27–75 Mbit/s of 100). One way shaped to 100 Mbit/s in the lab (10 ms queue),
 * the other side moved 5–40× more, once 2.3× (its ACKs sat in the shaped queue, and its sends
 * fell to the shaped side's rate after the first second); both ways shaped alike, the two sides
 * were within 1.1× of each other. A side at most ONE_WAY of the other is a one-way fault.
 */
const ONE_WAY = 1 / 2;

interface Cell {
  src: string;
  dst: string;
  pair: PairResult;
  failing: boolean;
}

const mean = (cells: Cell[]) => cells.reduce((a, c) => a + c.pair.summary.throughput_bps, 0) / cells.length;
const pct = (x: number) => `${Math.round(x * 1000) / 10} %`;
const round2 = (x: number) => Math.round(x * 100) / 100;

/** A pair fails on what it measured (not only because it could not be measured). */
const failsOnReading = (p: PairResult) => p.summary.verdict === 'fail' && (p.summary.reasons ?? []).some((r) => r.threshold !== 'status');

export function findSuspects(doc: ResultsDocument, medianBps: number | null): Suspect[] {
  const cells: Cell[] = pairsOf(doc)
    .filter(([, , p]) => hasReading(p.summary))
    .map(([src, dst, pair]) => ({ src, dst, pair, failing: failsOnReading(pair) }));
  const total = cells.filter((c) => c.failing).length;
  if (!total || !medianBps) return [];
  const open = new Set(cells.filter((c) => c.failing));
  // Each host's row and column, once: the search below looks at every host in every step.
  const sides = new Map<string, { row: Cell[]; col: Cell[] }>();
  const side = (h: string) => sides.get(h) ?? sides.set(h, { row: [], col: [] }).get(h)!;
  for (const c of cells) {
    side(c.src).row.push(c);
    side(c.dst).col.push(c);
  }
  const hosts = new Map(doc.run.hosts.map((x) => [x.name, x]));
  const suspects: Suspect[] = [];
  for (;;) {
    // A bad uplink between two racks also leaves each host of one rack with a low row: the
    // group wins when it explains more failing pairs than any one host does.
    const h = bestHost(sides, open, medianBps, total, hosts);
    const g = bestGroup(doc, cells, open, total);
    const s = g && (!h || g.explained.length > h.explained.length) ? g : h;
    if (!s) break;
    suspects.push(s.suspect);
    s.explained.forEach((c) => open.delete(c));
  }
  for (const c of open) suspects.push(linkSuspect(c, sides, medianBps));
  return suspects.sort((a, b) => b.confidence - a.confidence || b.pairs - a.pairs);
}

/** The host whose row or column explains the most open failing pairs, if any does. */
function bestHost(sides: Map<string, { row: Cell[]; col: Cell[] }>, open: Set<Cell>, medianBps: number, total: number, hosts: Map<string, HostResult>): { suspect: Suspect; explained: Cell[] } | null {
  let best: { suspect: Suspect; explained: Cell[] } | null = null;
  for (const [h, { row, col }] of sides) {
    const rowBad = row.filter((c) => open.has(c));
    const colBad = col.filter((c) => open.has(c));
    const fo = row.length ? rowBad.length / row.length : 0;
    const fi = col.length ? colBad.length / col.length : 0;
    const egress = row.length >= 2 && fo >= 0.5;
    const ingress = col.length >= 2 && fi >= 0.5;
    if (!egress && !ingress) continue;
    const r = (median(row.map((c) => c.pair.summary.throughput_bps)) ?? 0) / medianBps;
    const c = (median(col.map((c) => c.pair.summary.throughput_bps)) ?? 0) / medianBps;
    const [rm, cm] = [mean(row), mean(col)];
    const direction = egress && ingress ? (rm <= cm * ONE_WAY ? 'egress' : cm <= rm * ONE_WAY ? 'ingress' : 'both') : egress ? 'egress' : 'ingress';
    // Whichever way it is, the host explains all its failing pairs: TCP carries each way's ACKs
    // the other way, so a one-way fault slows some pairs of the other side too.
    const explained = [...rowBad, ...colBad];
    const side = direction === 'egress' ? fo : direction === 'ingress' ? fi : Math.min(fo, fi);
    const confidence = round2(side * Math.min(1, explained.length / total));
    const starved = cpuStarvation(hosts.get(h));
    const evidence =
      `${h} ${sideText('sends', r, medianBps, rowBad.length, row.length)} and ${sideText('receives', c, medianBps, colBad.length, col.length)}: ` +
      (starved ?? { egress: 'its egress', ingress: 'its ingress', both: 'its NIC or link, both ways' }[direction]) +
      retestNote(explained);
    const suspect: Suspect = { kind: 'host', host: h, direction, evidence, confidence, pairs: explained.length, ...retestOf(explained) };
    if (!best || explained.length > best.explained.length || (explained.length === best.explained.length && confidence > best.suspect.confidence)) best = { suspect, explained };
  }
  return best;
}

/** One side of a host in words; a side with no pair measured says so, not "0 % (0/0 fail)". */
function sideText(verb: 'sends' | 'receives', share: number, medianBps: number, bad: number, all: number): string {
  if (all === 0) return `${verb}: not measured (no pair ${verb === 'sends' ? 'from' : 'to'} it has a reading)`;
  return `${verb} at ${pct(share)}${verb === 'sends' ? ' of the median pair' : ''} (${rate(share * medianBps)}; ${bad}/${all} ${verb === 'sends' ? 'sends' : 'receives'} fail)`;
}

/** A quota held the host back for most of its test (health samples while iperf3 ran): the CPU, in words. */
const STARVED_PERCENT = 50;
function cpuStarvation(host: HostResult | undefined): string | null {
  const during = (host?.health ?? []).filter((s) => s.active > 0 && typeof s.cpu_throttled_percent === 'number');
  const throttled = median(during.map((s) => s.cpu_throttled_percent!));
  if (throttled === null || throttled < STARVED_PERCENT || typeof host?.cpu_limit_cores !== 'number') return null;
  return `starved of CPU: its cgroup allows ${host.cpu_limit_cores} cores and held it back in ${Math.round(throttled)} % of periods while it tested (median of ${during.length} samples); its NIC or link may be fine`;
}

/**
 * Hosts grouped by a topology label written key=value (rack=r12): a block between two groups
 * that fails while each group's own pairs pass points at what joins them.
 */
function bestGroup(doc: ResultsDocument, cells: Cell[], open: Set<Cell>, total: number): { suspect: Suspect; explained: Cell[] } | null {
  const groups = new Map<string, Map<string, Set<string>>>();
  for (const h of doc.run.hosts) {
    for (const l of h.labels ?? []) {
      const m = /^([^=]+)=(.+)$/.exec(l);
      if (!m) continue;
      const byValue = groups.get(m[1]!) ?? new Map<string, Set<string>>();
      byValue.set(m[2]!, (byValue.get(m[2]!) ?? new Set()).add(h.name));
      groups.set(m[1]!, byValue);
    }
  }
  let best: { suspect: Suspect; explained: Cell[] } | null = null;
  for (const [key, byValue] of groups) {
    for (const [a, A] of byValue) {
      for (const [b, B] of byValue) {
        if (a === b) continue;
        const block = cells.filter((c) => A.has(c.src) && B.has(c.dst));
        const bad = block.filter((c) => open.has(c));
        const inside = cells.filter((c) => (A.has(c.src) && A.has(c.dst)) || (B.has(c.src) && B.has(c.dst)));
        const insideBad = inside.filter((c) => c.failing).length;
        if (block.length < 2 || bad.length / block.length < 0.5 || (inside.length && insideBad / inside.length >= 0.5)) continue;
        const confidence = round2((bad.length / block.length) * Math.min(1, bad.length / total));
        const evidence = `${bad.length}/${block.length} pairs from ${key}=${a} to ${key}=${b} fail while ${inside.length - insideBad}/${inside.length} pairs inside the two groups pass: what joins them${retestNote(bad)}`;
        const suspect: Suspect = { kind: 'group', group: { key, src: a, dst: b }, evidence, confidence, pairs: bad.length, ...retestOf(bad) };
        if (!best || bad.length > best.explained.length) best = { suspect, explained: bad };
      }
    }
  }
  return best;
}

/** One failing cell nothing else explains: that link, that way. */
function linkSuspect(cell: Cell, sides: Map<string, { row: Cell[]; col: Cell[] }>, medianBps: number): Suspect {
  const others = [...sides.get(cell.src)!.row, ...sides.get(cell.dst)!.col].filter((c) => c !== cell);
  const othersPass = others.filter((c) => !c.failing).length;
  const bps = cell.pair.summary.throughput_bps;
  const evidence =
    `${cell.src} -> ${cell.dst} carried ${rate(bps)} (${pct(bps / medianBps)} of the median pair) while ${othersPass}/${others.length} ` +
    `other pairs from ${cell.src} or to ${cell.dst} pass: that link, that way${retestNote([cell])}`;
  const confidence = round2(others.length ? 0.9 * (othersPass / others.length) : 0.5);
  return { kind: 'link', src: cell.src, dst: cell.dst, evidence, confidence, pairs: 1, ...retestOf([cell]) };
}

/** What re-testing the pairs alone said: only slow with the others running, or broken alone too. */
function retestOf(cells: Cell[]): Pick<Suspect, 'retest'> {
  const judged = cells.map((c) => c.pair.retest?.summary.verdict).filter((v) => v !== undefined);
  if (!judged.length) return {};
  const passed = judged.filter((v) => v === 'pass').length;
  return { retest: passed === judged.length ? 'contention' : passed === 0 ? 'broken' : 'mixed' };
}

function retestNote(cells: Cell[]): string {
  const r = retestOf(cells).retest;
  if (!r) return '';
  return {
    contention: '; re-tested alone, every pair passed: slow only under contention',
    broken: '; re-tested alone, they still fail: broken, not contention',
    mixed: '; re-tested alone, some pass and some still fail',
  }[r];
}
