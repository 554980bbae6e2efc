// Profiles as users write them: inherited, mistyped, missing, circular. Each mistake is exit 2
// naming the field, the line and the fix; the steps a campaign takes are the cross-product.
import t from 'tap';
import { PassThrough } from 'node:stream';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseInventory } from '../lib/inventory/load.js';
import { main, type CliIO } from '../lib/cli/main.js';
import { campaignSteps, parseSweep } from '../lib/mesh/campaign.js';

const HOSTS = '[[hosts]]\nname = "h1"\naddress = "198.19.196.1"\n\n[[hosts]]\nname = "h2"\naddress = "198.19.196.2"\n';

async function cli(toml: string, ...args: string[]): Promise<{ code: number; text: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meshperf-profiles-'));
  try {
    const file = path.join(dir, 'hosts.toml');
    writeFileSync(file, toml);
    let text = '';
    const sink = new PassThrough().on('data', (d) => (text += d));
    const io: CliIO = { stdout: sink, stderr: sink, stdin: new PassThrough() as unknown as NodeJS.ReadStream, tty: false, env: { PATH: process.env.PATH, HOME: dir }, onSignal: () => () => {}, exit: () => {}, root: false };
    const code = await main(['--inventory', file, '--dry-run', ...args], io);
    return { code, text };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

t.test('extends: a profile has its own keys over what it extends, over [test]', async (t) => {
  const inv = parseInventory(`[test]\nduration = 3\nwindow = "1M"\n\n[profiles.base]\nparallel = 4\nbitrate = "100M"\n\n[profiles.fast]\nextends = "base"\nbitrate = "1G"\n\n${HOSTS}`, 'p.toml');
  const [step] = campaignSteps(inv.test, {}, { profiles: ['fast'], sweep: {}, repeat: 1 }, inv.profiles);
  t.same(step!.options, { parallel: 4, bitrate: 1e9 }, 'fast: its bitrate, base\'s parallel');
  const [flagged] = campaignSteps(inv.test, { parallel: 2 }, { profiles: ['fast'], sweep: { bitrate: [5e6] }, repeat: 1 }, inv.profiles);
  t.same(flagged!.options, { parallel: 2, bitrate: 5e6 }, 'the command line over the profile, the sweep point over both');
  const builtIn = campaignSteps(inv.test, {}, { profiles: ['udp-line', 'tcp-single'], sweep: {}, repeat: 2 }, inv.profiles);
  t.same(builtIn.map((s) => [s.profile, s.repetition, s.options]), [['udp-line', 1, { protocol: 'udp', bitrate: 100e9 }], ['udp-line', 2, { protocol: 'udp', bitrate: 100e9 }], ['tcp-single', 1, { parallel: 1, processes: 1 }], ['tcp-single', 2, { parallel: 1, processes: 1 }]], 'built-in ones, each repeated');
  const r = await cli(`[profiles.base]\nduration = 1\n\n${HOSTS}`, '--profile', 'base', '--sweep', 'parallel=1,2', '--sweep', 'bitrate=10M,20M,40M', '--repeat', '2');
  t.equal(r.code, 0, r.text);
  t.match(r.text, /campaign: 12 steps = 1 profile × 6 sweep points × 2 repetitions/, 'the dry run counts the cross-product');
});

t.test('an unknown key in a profile: exit 2, its line, did you mean', async (t) => {
  const r = await cli(`[profiles.tcp8]\nparalel = 8\n\n${HOSTS}`, '--profile', 'tcp8');
  t.equal(r.code, 2);
  t.match(r.text, /line 1: profiles\.tcp8: unknown key "paralel"; did you mean "parallel"\?/);
});

t.test('an unknown profile: exit 2, did you mean, and what there is', async (t) => {
  const r = await cli(`[profiles.tcp8]\nparallel = 8\n\n${HOSTS}`, '--profile', 'tcp9');
  t.equal(r.code, 2);
  t.match(r.text, /--profile: no profile "tcp9"; did you mean "tcp8"\? \(the inventory defines tcp8; built in: tcp-single, tcp-multi, udp-line, reverse\)/);
  const ext = await cli(`[profiles.a]\nextends = "nope"\n\n${HOSTS}`);
  t.equal(ext.code, 2, 'an extends of no profile, even unused');
  t.match(ext.text, /line 1: profiles\.a\.extends: no profile "nope"/);
});

t.test('a cycle of extends: exit 2, naming the chain', async (t) => {
  const r = await cli(`[profiles.a]\nextends = "b"\n\n[profiles.b]\nextends = "c"\n\n[profiles.c]\nextends = "a"\n\n${HOSTS}`);
  t.equal(r.code, 2);
  t.match(r.text, /line \d+: profiles\.c\.extends: "a" makes a cycle \(a → b → c → a\)/);
});

t.test('--sweep reads values as the option table does, and names what is wrong', async (t) => {
  t.same(parseSweep(['bitrate=100M,1G', 'reverse=false,true', 'protocol=tcp,udp']), { bitrate: [1e8, 1e9], reverse: [false, true], protocol: ['tcp', 'udp'] });
  t.throws(() => parseSweep(['bitrat=1M']), /"bitrat" cannot be swept; did you mean "bitrate"\?/);
  t.throws(() => parseSweep(['port_range=1-2']), /"port_range" cannot be swept/);
  t.throws(() => parseSweep(['parallel=0']), /--sweep parallel=0: parallel must be a whole number from 1/);
  t.throws(() => parseSweep(['bitrate']), /write KEY=V1,V2/);
});
