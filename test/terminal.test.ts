// The command on a terminal (script(1) gives it a pseudo-terminal): a host's failure is shown
// when it happens, above the progress bar, and after the test the bar says whom it waits for.
import t from 'tap';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { namespacePids } from '../lib/lab/network.js';
import { canRunLab, leftovers, NO_LAB_REASON, withLab } from './helpers/lab.js';
import { eventually, isDaemon } from './helpers/procs.js';

const BIN = new URL('../bin/meshperf.js', import.meta.url).pathname;

t.test('on a terminal: failures as they happen, and what collect waits for', { skip: !canRunLab && NO_LAB_REASON }, async (t) => {
  const lab = await withLab(t, 3, '198.19.134.0/24');
  const inv = path.join(lab.tmp, 'tty.toml');
  const { readFileSync, writeFileSync } = await import('node:fs');
  writeFileSync(inv, readFileSync(lab.inventory, 'utf8').replace('[ssh]', '[ssh]\nconnect_timeout = 2\nconnect_attempts = 1\nlost_after = 15') + '[[hosts]]\nname = "h4"\naddress = "198.19.134.99"\n');
  const cmd = `${process.execPath} ${BIN} --inventory ${inv} --duration 2 --out ${path.join(lab.tmp, 'out')}`;
  const child = spawn('script', ['-qfec', cmd, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let screen = '';
  const marks: { text: string; at: number }[] = [];
  child.stdout.on('data', (c) => {
    screen += c.toString();
    marks.push({ text: screen, at: Date.now() });
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const seen = (re: RegExp) => eventually(() => re.test(screen), 30_000);

  t.ok(await seen(/h4: FAILED unreachable: root@198\.19\.134\.99:22: cannot connect/), 'the unreachable host is named while the run goes on');
  t.notMatch(screen, /pairs ok/, '(before the matrix)');
  t.ok(await seen(/test +\[/), 'the bar shows the test');
  // Freeze h3's daemon: after the test, collect waits for it.
  const pids = await namespacePids(lab.network.hosts[2]!.namespace);
  const daemon = (await leftovers(lab)).find((p) => isDaemon(p) && pids.includes(p.pid))!;
  process.kill(daemon.pid, 'SIGSTOP');
  t.teardown(() => {
    try {
      process.kill(daemon.pid, 'SIGCONT');
    } catch {}
  });
  t.ok(await seen(/collect \[.*waiting for h3/), 'the bar says it waits for h3, not "test 4/3 s"');
  t.notMatch(screen, /test +\[[^\]]*\] ([3-9]|\d\d)\/2 s/, 'the test never reads past its duration');
  t.ok(await seen(/h3: nothing heard for \d+ s, but its SSH connection is up: busy, not gone; waiting up to 16 s in all \(ssh\.lost_after\)/), 'h3, silent, is said to be waited for, and for how long');
  t.notMatch(screen, /h3: FAILED/, '(not yet failed then)');
  t.ok(await seen(/h3: FAILED host_lost: h3 stopped answering: nothing heard for 1\d s while its SSH connection stayed up \(ssh\.lost_after 15 s/), 'h3, lost after its lost_after, is named as it happens');
  t.ok(await seen(/pairs ok/), 'then the matrix');
  t.equal(await exited, 1);
});

t.test('a host that floods stderr: the terminal shows the first few and a count, the log keeps a bounded number, the results say so', { skip: !canRunLab && NO_LAB_REASON }, async (t) => {
  const { readFileSync, writeFileSync, chmodSync } = await import('node:fs');
  const { spawnSync } = await import('node:child_process');
  const lab = await withLab(t, 2, '198.19.192.0/24');
  // h2's `node`: the real one, and beside it on the same stderr, once the daemon runs, 3000 lines
  // (a wrapper or a library gone wrong does the same).
  const noisy = path.join(lab.tmp, 'node');
  writeFileSync(noisy, `#!/bin/sh\n(sleep 0.5; i=0; while [ $i -lt 3000 ]; do echo "noise $i"; i=$((i+1)); done) >&2 &\nexec ${process.execPath} "$@"\n`);
  chmodSync(noisy, 0o755);
  const inv = path.join(lab.tmp, 'noisy.toml');
  writeFileSync(inv, readFileSync(lab.inventory, 'utf8').replace(/(name = "h2"\n[^\[]*?address = "[^"]+")/, `$1\nnode = "${noisy}"`));
  const out = path.join(lab.tmp, 'out');
  const r = spawnSync(process.execPath, [BIN, '--inventory', inv, '--duration', '1', '--out', out], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr.slice(-2000));
  const shown = r.stderr.split('\n').filter((l) => l.startsWith('h2: daemon stderr: noise'));
  t.same(shown, [0, 1, 2, 3, 4].map((i) => `h2: daemon stderr: noise ${i}`), 'the first five lines, on the terminal');
  t.match(r.stderr, /^h2: 995 more lines of daemon stderr not shown here; meshperf\.log keeps them \(up to 1000 a host\)$/m, 'and a count of the rest');
  const total = /^warning: h2: its daemon side wrote (\d+) lines to stderr/m.exec(r.stderr);
  t.ok(total && Number(total[1]) >= 3000, `and, once, how many there were in all: ${total?.[0]}`);
  t.ok(r.stderr.split('\n').length < 100, `the terminal got ${r.stderr.split('\n').length} lines, not thousands`);
  const logged = readFileSync(path.join(out, 'meshperf.log'), 'utf8').split('\n').filter((l) => l.includes('"daemon-stderr"') && l.includes('"h2"'));
  t.equal(logged.length, 1000, 'the log keeps the first 1000');
  const doc = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
  t.ok(doc.run.warnings.some((w: string) => /^h2: its daemon side wrote \d{4,} lines to stderr; the first 1000 are in the run's log \(daemon-stderr\), the other \d+ were not kept$/.test(w)), 'the results say what was not kept');
  t.equal(doc.summary.pairs_ok, 2, 'and the run measured as ever');
});
