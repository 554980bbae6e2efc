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
