// The layering of lib/: the daemon and the controller share only lib/protocol and lib/shared;
// neither imports the other, and no import cycle exists anywhere.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const LIB = path.resolve('lib');
const DAEMON_MAY_IMPORT = new Set(['daemon', 'protocol', 'shared']);
const SHARED = new Set(['protocol', 'shared']);

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

/** file -> the lib files it imports (type-only imports count: they are a dependency too). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const f of files(LIB)) {
    const text = readFileSync(f, 'utf8');
    const deps = [...text.matchAll(/(?:import|export)[^'";]*?from\s+'(\.[^']+)'/g)].map((m) => path.resolve(path.dirname(f), m[1]!.replace(/\.js$/, '.ts')));
    graph.set(f, deps);
  }
  return graph;
}

const folder = (f: string) => path.relative(LIB, f).split(path.sep)[0]!;

t.test('the daemon imports only protocol and shared; nothing outside the daemon imports it', async (t) => {
  const wrong: string[] = [];
  for (const [f, deps] of importGraph()) {
    for (const d of deps) {
      const from = folder(f);
      const to = folder(d);
      if (from === 'daemon' && !DAEMON_MAY_IMPORT.has(to)) wrong.push(`${path.relative(LIB, f)} -> ${path.relative(LIB, d)}`);
      if (from !== 'daemon' && to === 'daemon') wrong.push(`${path.relative(LIB, f)} -> ${path.relative(LIB, d)}`);
      if (SHARED.has(from) && !SHARED.has(to)) wrong.push(`${path.relative(LIB, f)} -> ${path.relative(LIB, d)} (shared code must stand alone)`);
    }
  }
  t.same(wrong, [], 'no import across the daemon/controller line');
});

t.test('no import cycle in lib/', async (t) => {
  const graph = importGraph();
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (f: string, trail: string[]) => {
    if (state.get(f) === 'done') return;
    if (state.get(f) === 'open') {
      cycles.push([...trail.slice(trail.indexOf(f)), f].map((x) => path.relative(LIB, x)).join(' -> '));
      return;
    }
    state.set(f, 'open');
    for (const d of graph.get(f) ?? []) visit(d, [...trail, f]);
    state.set(f, 'done');
  };
  for (const f of graph.keys()) visit(f, []);
  t.same(cycles, [], 'the import graph is acyclic');
});

t.test('no cycle between folders either: layers point one way', async (t) => {
  const edges = new Map<string, Set<string>>();
  for (const [f, deps] of importGraph()) {
    for (const d of deps) {
      const [a, b] = [folder(f), folder(d)];
      if (a === b || a.endsWith('.ts') || b.endsWith('.ts')) continue;
      if (!edges.has(a)) edges.set(a, new Set());
      edges.get(a)!.add(b);
    }
  }
  const back: string[] = [];
  const reaches = (from: string, to: string, seen = new Set<string>()): boolean =>
    from === to || [...(edges.get(from) ?? [])].some((n) => !seen.has(n) && (seen.add(n), reaches(n, to, seen)));
  for (const [a, bs] of edges) for (const b of bs) if (reaches(b, a)) back.push(`${a} -> ${b}`);
  t.same(back, [], 'no folder imports one that imports it back');
});

t.test('the CLI is a consumer of the API: it imports lib/index.ts and the lab\'s entry only', async (t) => {
  const allowed = new Set([path.join(LIB, 'index.ts'), path.join(LIB, 'lab', 'lab.ts')]);
  const wrong = [...importGraph()]
    .filter(([f]) => folder(f) === 'cli')
    .flatMap(([f, deps]) => deps.filter((d) => folder(d) !== 'cli' && !allowed.has(d)).map((d) => `${path.relative(LIB, f)} -> ${path.relative(LIB, d)}`));
  t.same(wrong, []);
});
