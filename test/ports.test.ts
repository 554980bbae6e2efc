import t from 'tap';
import { pickPorts } from '../lib/daemon/ports.js';
import { parseCpuList } from '../lib/shared/cpus.js';
import { parseFirstJson } from '../lib/shared/iperf-json.js';
import { parseProcNetTcp, TCP_LISTEN } from '../lib/shared/proc-net-tcp.js';
import { parseIperfVersion, versionAtLeast } from '../lib/shared/versions.js';

// Real lines from /proc/net/tcp and /proc/net/tcp6 (a listener on 5201, an established socket on 22).
const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0B00A8C6:1451 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 41234 1 0000000000000000 100 0 0 10 0
   1: 0B00A8C6:0016 0C00A8C6:D2F0 01 00000000:00000000 02:0009A8F3 00000000     0        0 41300 4 0000000000000000 20 4 30 10 -1
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:1452 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 51000 1 0000000000000000 100 0 0 10 0
`;

t.test('/proc/net/tcp{,6} lines give port, the peer\'s port, state and inode', async (t) => {
  t.same(parseProcNetTcp(TCP), [
    { port: 5201, remotePort: 0, state: TCP_LISTEN, inode: 41234 },
    { port: 22, remotePort: 0xd2f0, state: 1, inode: 41300 },
  ]);
  t.same(parseProcNetTcp(TCP6), [{ port: 5202, remotePort: 0, state: TCP_LISTEN, inode: 51000 }]);
  t.same(parseProcNetTcp(''), []);
});

t.test('ports are picked in order, skipping taken ones', async (t) => {
  t.same(pickPorts([5201, 5210], 3, new Set([5201, 5203])), [5202, 5204, 5205]);
  t.same(pickPorts([7000, 7000], 1, new Set()), [7000], 'a one-port range works');
});

t.test('a range too small says how many were free and what to do', async (t) => {
  t.throws(() => pickPorts([5201, 5203], 3, new Set([5202])), /5201-5203 has only 2 free ports, 3 needed: widen port_range/);
});

t.test('cpu lists, iperf3 versions and the first JSON document', async (t) => {
  t.same(parseCpuList('0-3,8,10-11\n'), [0, 1, 2, 3, 8, 10, 11]);
  t.equal(parseIperfVersion('iperf 3.12 (cJSON 1.7.15)\nLinux vm 6.1'), '3.12');
  t.equal(parseIperfVersion('iperf 3.9'), '3.9');
  t.equal(parseIperfVersion('bash: iperf3: not found'), null);
  t.ok(versionAtLeast('3.10', '3.9'), '3.10 is newer than 3.9 (numeric, not string, order)');
  t.notOk(versionAtLeast('3.9', '3.10'));
  t.notOk(versionAtLeast(null, '3.0'));
  // iperf3 3.16 could print its document twice.
  t.same(parseFirstJson('{"a":{"b":"}"}}\n{"a":2}\n'), { a: { b: '}' } });
  t.equal(parseFirstJson('iperf3: error - unable to connect'), null);
});
