// Benchmark: connecting a cluster through one bastion against connecting it directly. Two labs of
// the same shape (24 hosts, SSH on a management network, the mesh on a rail), one with a bastion
// in front; each is connected RUNS times (runMesh, 1 s test), timing from the start of the run to
// the moment the last host answered hello. Prints each side's median and the ratio.
// Needs root on Linux and a build. Usage: npm run bench:bastion
import os from 'node:os';
import path from 'node:path';
import { loadInventory, runMesh } from '../dist/index.js';
import { labDown, labUp, pickFreeSubnet } from '../dist/lab/lab.js';
import { median, recordRatio } from './record.mjs';

const HOSTS = 24;
const RUNS = 3;

async function connectTimes(shape) {
  const dir = path.join(os.tmpdir(), `meshperf-bench-${process.pid}-${shape.bastion ? 'bastion' : 'direct'}`);
  const lab = await labUp({ hosts: HOSTS, dir, subnet: await pickFreeSubnet(shape), rails: 1, ...shape });
  try {
    const inventory = await loadInventory(lab.inventory);
    const times = [];
    for (let i = 0; i < RUNS; i++) {
      const start = performance.now();
      let ready = 0;
      let last = 0;
      const doc = await runMesh({
        inventory,
        test: { duration: 1, processes: 1 },
        onEvent: (e) => {
          if (e.type === 'host-ready' && ++ready === HOSTS) last = performance.now() - start;
        },
      });
      if (doc.summary.hosts_ok !== HOSTS) throw new Error(`bench run lost hosts: ${JSON.stringify(doc.summary)}`);
      times.push(last);
    }
    return times;
  } finally {
    await labDown(dir);
  }
}

const direct = await connectTimes({});
const bastion = await connectTimes({ bastion: true });
const fmt = (xs) => `median ${median(xs).toFixed(0)} ms (${xs.map((x) => x.toFixed(0)).join(', ')})`;
console.log(`${HOSTS} hosts connected directly:          ${fmt(direct)}`);
console.log(`${HOSTS} hosts connected through a bastion: ${fmt(bastion)}`);
console.log(`ratio bastion / direct: ${(median(bastion) / median(direct)).toFixed(2)}x`);
recordRatio({ bench: 'bastion', label: `${HOSTS} hosts: connect through a bastion / directly`, ratio: median(bastion) / median(direct), detail: `${median(bastion).toFixed(0)} ms and ${median(direct).toFixed(0)} ms` });
