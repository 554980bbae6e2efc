import t from 'tap';
import { clientArgv, serverArgv } from '../lib/daemon/iperf-args.js';

const base = { host: '198.19.1.2', port: 5201, cpu: 3, options: { duration: 5, parallel: 2, protocol: 'tcp' as const } };

t.test('flags reach only the iperf3 versions that have them', async (t) => {
  t.ok(clientArgv('iperf3', '3.17', { ...base, live: true }).includes('--json-stream'), '3.17 streams its JSON');
  const old = clientArgv('iperf3', '3.16', { ...base, live: true });
  t.notOk(old.includes('--json-stream'), '3.16 does not');
  t.ok(old.includes('-J'), 'and prints one document instead');
  t.ok(serverArgv('iperf3', '3.10', { port: 5201, bind: '198.19.1.1', cpu: 0, idleTimeout: 90 }).includes('--idle-timeout'));
  t.notOk(serverArgv('iperf3', '3.9', { port: 5201, bind: '198.19.1.1', cpu: 0, idleTimeout: 90 }).includes('--idle-timeout'), 'no --idle-timeout before 3.10');
  t.throws(() => clientArgv('iperf3', '3.6', { ...base, options: { ...base.options, bidir: true } }), /--bidir needs iperf3 >= 3\.7, this host has 3\.6/);
});

t.test('each option maps to its flag, as an argument vector', async (t) => {
  const argv = clientArgv('/usr/bin/iperf3', '3.12', {
    ...base,
    bind: '198.19.1.1',
    options: { duration: 5, parallel: 2, protocol: 'udp', bitrate: 5e8, reverse: true, window: 262144, mss: 1400, congestion: 'bbr', omit: 2, tos: 16, dscp: 46, zerocopy: true, no_delay: true },
  });
  t.same(argv, [
    '/usr/bin/iperf3', '-c', '198.19.1.2', '-p', '5201', '-J', '-B', '198.19.1.1', '-A', '3', '-t', '5', '-P', '2',
    '-u', '-b', '500000000', '-R', '-w', '262144', '-M', '1400', '-C', 'bbr', '-O', '2', '-S', '16', '--dscp', '46', '-Z', '-N',
  ]);
});
