// Thresholds as a user writes them: the [thresholds] table and the flags, their defaults, and the
// messages for what cannot be read.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { defaultThresholds, InventoryError, parseInventory, readThreshold } from 'meshperf';
import { goodputFactor } from '../lib/results/verdict/line-rate.js';

const BIN = new URL('../bin/meshperf.js', import.meta.url).pathname;
const HOSTS = '[[hosts]]\nname = "a"\naddress = "198.19.184.1"\n[[hosts]]\nname = "b"\naddress = "198.19.184.2"\n';
const problems = (toml: string) => {
  try {
    parseInventory(toml + HOSTS);
    return '';
  } catch (e) {
    return e instanceof InventoryError ? e.message : String(e);
  }
};

t.test('defaults: half the median, 1 % UDP loss, the rest off', async (t) => {
  t.same(defaultThresholds(), { min_throughput: null, min_percent_of_median: 50, min_percent_of_line_rate: null, max_loss_percent: 1, max_retransmits: null, max_rtt: null });
  t.same(parseInventory(HOSTS).thresholds, defaultThresholds(), 'an inventory without [thresholds] has them');
});

t.test('[thresholds] read: rates with K/M/G, percents, 0 turns a floor off but is a real ceiling', async (t) => {
  const inv = parseInventory('[thresholds]\nmin_throughput = "9.5G"\nmin_percent_of_median = 0\nmax_loss_percent = 0\nmax_rtt = 2.5\n' + HOSTS);
  t.match(inv.thresholds, { min_throughput: 9.5e9, min_percent_of_median: null, max_loss_percent: 0, max_rtt: 2.5 });
  t.same(readThreshold('min_percent_of_line_rate', '90%'), { value: 90 }, 'a percent sign is fine');
});

t.test('what cannot be read is named with the fix', async (t) => {
  t.match(problems('[thresholds]\nmin_troughput = "1G"\n'), /thresholds.*min_troughput.*min_throughput/s, 'a misspelt key: did you mean');
  t.match(problems('[thresholds]\nmin_throughput = "fast"\n'), /thresholds\.min_throughput/);
  t.match(problems('[thresholds]\nmin_percent_of_median = 150\n'), /thresholds.*min_percent_of_median.*100/s);
  t.match(problems('[thresholds]\nmax_retransmits = 1.5\n'), /thresholds.*max_retransmits/s);
  t.same(readThreshold('max_retransmits', '1.5'), { problem: 'must be a whole number, 0 or more' });
  for (const [flag, value, message] of [
    ['--min-throughput', 'fast', /--min-throughput must be a rate in bits\/s, a number optionally with K, M or G \(e\.g\. 500M\), got "fast"/],
    ['--min-percent-of-median', '120', /--min-percent-of-median must be a percent from 0 to 100/],
    ['--max-rtt', '-1', /--max-rtt must be milliseconds/],
  ] as const) {
    const r = spawnSync(process.execPath, [BIN, '--inventory', '/nonexistent.toml', flag, value], { encoding: 'utf8' });
    t.equal(r.status, 2, `${flag} ${value}: exit 2`);
    t.match(r.stderr, message);
  }
});

t.test('goodput at an MTU: what iperf3 can count of the wire', async (t) => {
  t.equal(Math.round(goodputFactor(1500, 'tcp') * 1000) / 1000, 0.941, 'TCP at 1500: 94.1 %');
  t.equal(Math.round(goodputFactor(9000, 'tcp') * 1000) / 1000, 0.990, 'TCP at 9000: 99.0 %');
  t.equal(Math.round(goodputFactor(1500, 'udp') * 1000) / 1000, 0.957, 'UDP at 1500: 95.7 %');
});
