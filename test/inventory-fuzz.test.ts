// Inventories as users get them wrong: the example inventory mutated 250 ways (a key removed, a
// value of the wrong type or out of range, a range where none belongs, an unknown key, a host
// twice), each given to `meshperf --dry-run`. Every one must end in a plan (exit 0) or a usage
// error (exit 2) whose words are the user's: no stack trace, no "undefined", "NaN" or
// "[object Object]". Seeded, so a failure names the case that reproduces it.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { parse, stringify } from 'smol-toml';
import { main, type CliIO } from '../lib/cli/main.js';

const CASES = 250;
const base = parse(readFileSync(new URL('../inventory.example.toml', import.meta.url), 'utf8')) as Tree;
type Tree = Record<string, unknown>;

/** A small seeded generator (mulberry32): the same cases on every machine. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const JUNK: unknown[] = ['', ' ', -1, 0, 1, 3.5, 1e12, -1e12, true, false, 'abc', '10x', '1-0', '5201-', '[1-3]', 'h[1-3]', 'h[3-1]', '198.18.0.[1-3]', '198.18.0.[1-300]', '::1', '*', '💥', [], ['x'], [1, 2], {}, { a: 1 }, { rail2: 5 }, '~/nowhere', '0G', '9Q', '-5M'];

/** Every path to a value in the tree, arrays included. */
function paths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(v)) return [at, ...v.flatMap((x, i) => paths(x, [...at, i]))];
  if (v && typeof v === 'object') return [at, ...Object.entries(v).flatMap(([k, x]) => paths(x, [...at, k]))];
  return [at];
}

function parentOf(tree: Tree, p: (string | number)[]): Record<string | number, unknown> {
  return p.slice(0, -1).reduce<Record<string | number, unknown>>((o, k) => (o?.[k] ?? undefined) as Record<string | number, unknown>, tree);
}

/** One mutation of a copy of the example; returns what it did, for the failure message. */
function mutate(rand: () => number): { tree: Tree; did: string } {
  const tree = structuredClone(base);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const said: string[] = [];
  for (let n = 1 + Math.floor(rand() * 2); n > 0; n--) {
    // Again each time: the previous mutation may have taken a path away.
    const p = pick(paths(tree).filter((p) => p.length > 0));
    const parent = parentOf(tree, p);
    if (parent === undefined || parent === null || typeof parent !== 'object') continue;
    const key = p[p.length - 1]!;
    const hosts = Array.isArray(tree.hosts) ? (tree.hosts as unknown[]).filter((h): h is Tree => typeof h === 'object' && h !== null && !Array.isArray(h)) : [];
    const kind = pick(['remove', 'junk', 'junk', 'junk', 'unknown', 'duplicate-host', 'ranged-host'] as const);
    if (kind === 'remove' && !Array.isArray(parent)) {
      delete parent[key];
      said.push(`removed ${p.join('.')}`);
    } else if (kind === 'unknown') {
      const table = typeof parent[key] === 'object' && !Array.isArray(parent[key]) ? (parent[key] as Tree) : (parent as Tree);
      table[pick(['nmae', 'adress', 'duraton', 'extra', 'Name'])] = pick(JUNK);
      said.push(`an unknown key near ${p.join('.')}`);
    } else if (kind === 'ranged-host') {
      // The cluster's shorthand half written: one field ranged, the others not (or gone).
      if (!hosts.length) continue;
      const host = pick(hosts);
      host[pick(['address', 'ssh_host', 'name'])] = pick(['198.18.0.[1-3]', 'n[1-2]', 'n[01-10]']);
      if (rand() < 0.5) delete host[pick(['name', 'address'])];
      said.push(`a ranged host: ${JSON.stringify(host)}`);
    } else if (kind === 'duplicate-host') {
      if (!hosts.length) continue;
      (tree.hosts as Tree[]).push(structuredClone(pick(hosts)));
      said.push('a host twice');
    } else {
      const value = pick(JUNK);
      parent[key] = value;
      said.push(`${p.join('.')} = ${JSON.stringify(value)}`);
    }
  }
  return { tree, did: said.join('; ') || 'nothing' };
}

function io(env: NodeJS.ProcessEnv): { io: CliIO; text: () => string } {
  const out = new PassThrough();
  const err = new PassThrough();
  let text = '';
  out.on('data', (d) => (text += d));
  err.on('data', (d) => (text += d));
  return {
    io: { stdout: out, stderr: err, stdin: new PassThrough() as unknown as NodeJS.ReadStream, tty: false, env, onSignal: () => () => {}, exit: () => {}, root: false },
    text: () => text,
  };
}

const JUNK_WORDS = /\bundefined\b|\bNaN\b|\[object Object\]|^\s+at .+[(:]\d+|TypeError|ReferenceError|RangeError/m;

t.test(`${CASES} mutated inventories: a plan or a clear usage error, never a program's internals`, async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meshperf-fuzz-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const env = { PATH: process.env.PATH, HOME: dir };
  const rand = random(20261203);
  const codes = { 0: 0, 2: 0 } as Record<number, number>;
  for (let c = 0; c < CASES; c++) {
    const { tree, did } = mutate(rand);
    let toml: string;
    try {
      toml = stringify(tree);
    } catch {
      continue; // not writable as TOML (mixed arrays): not an inventory a user could have
    }
    const file = path.join(dir, `case-${c}.toml`);
    writeFileSync(file, toml);
    const cli = io(env);
    const code = await main(['--inventory', file, '--dry-run'], cli.io);
    codes[code] = (codes[code] ?? 0) + 1;
    const text = cli.text();
    if (code !== 0 && code !== 2) t.fail(`case ${c} (${did}): exit ${code}\n${text}`);
    const junk = JUNK_WORDS.exec(text);
    if (junk) t.fail(`case ${c} (${did}): "${junk[0]}" in\n${text}`);
  }
  t.ok(codes[0]! > 0 && codes[2]! > CASES / 4, `both outcomes seen: ${JSON.stringify(codes)}`);
});
