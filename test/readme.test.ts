// The README's library example, as a user would copy it: it type-checks against the published
// declarations and, on an emulated cluster, runs and writes its results.
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { transformSync } from 'esbuild';
import { canRunLab, leftovers, NO_LAB_REASON, withLab } from './helpers/lab.js';
import { PROTOCOL_VERSION } from '../lib/protocol/messages.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const example = /## As a library\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';

/** A project of the user's: the example as its main module, meshperf installed (a link to this checkout). */
function userProject(t: Test): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meshperf-readme-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, 'node_modules'));
  symlinkSync(ROOT, path.join(dir, 'node_modules', 'meshperf'));
  symlinkSync(path.join(ROOT, 'node_modules', '@types'), path.join(dir, 'node_modules', '@types'));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  writeFileSync(path.join(dir, 'example.ts'), example);
  return dir;
}

t.ok(example.includes("from 'meshperf'"), 'the README has a library example');

t.test('it type-checks against the package as published', async (t) => {
  const dir = userProject(t);
  const tsc = path.join(ROOT, 'node_modules', '.bin', 'tsc');
  const args = ['--noEmit', '--strict', '--module', 'nodenext', '--target', 'es2022', '--types', 'node', path.join(dir, 'example.ts')];
  const out = (() => {
    try {
      execFileSync(tsc, args, { cwd: dir, encoding: 'utf8' });
      return '';
    } catch (err) {
      return String((err as { stdout?: string }).stdout);
    }
  })();
  t.equal(out, '', 'tsc finds no error');
});

t.test('it runs on a cluster and writes its results', { skip: !canRunLab && NO_LAB_REASON }, async (t) => {
  const lab = await withLab(t, 2, '198.19.130.0/24');
  const dir = userProject(t);
  const js = transformSync(example, { loader: 'ts', format: 'esm' }).code;
  writeFileSync(path.join(dir, 'example.mjs'), js);
  // Run where the example expects its hosts.toml: the lab's inventory directory.
  const stdout = execFileSync(process.execPath, [path.join(dir, 'example.mjs')], { cwd: lab.dir, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  const [first] = stdout.split('\n');
  t.ok(Number(first!.split(' ')[0]) > 1e6, `it prints the aggregate throughput (${first})`);
  t.match(first, / 0 pairs fail$/, 'and the verdicts');
  t.match(stdout, /\n## meshperf run \S+\n/, 'and a report in Markdown');
  const results = path.join(lab.dir, 'out', 'results.json');
  t.ok(existsSync(results), 'and writes ./out/results.json');
  t.equal(JSON.parse(readFileSync(results, 'utf8')).summary.pairs_ok, 2, 'with both pairs measured');
  t.same(await leftovers(lab), []);
});

t.test('installed from a packed tarball, as the README says: the command runs and the library imports', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meshperf-pack-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const quiet = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];
  const tgz = execFileSync('npm', ['pack', '--pack-destination', dir, '--loglevel=error'], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').pop()!;
  const project = path.join(dir, 'project');
  mkdirSync(project);
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'user-project', private: true, type: 'module' }));
  execFileSync('npm', ['install', path.join(dir, tgz), ...quiet], { cwd: project, encoding: 'utf8' });
  const help = execFileSync(path.join(project, 'node_modules', '.bin', 'meshperf'), ['--help'], { encoding: 'utf8' });
  t.match(help, /meshperf --inventory hosts\.toml \[options\]/, 'the meshperf command runs');
  const lib = execFileSync(process.execPath, ['--input-type=module', '-e', "import { runMesh, PROTOCOL_VERSION } from 'meshperf'; console.log(typeof runMesh, PROTOCOL_VERSION)"], { cwd: project, encoding: 'utf8' });
  t.equal(lib.trim(), `function ${PROTOCOL_VERSION}`, 'and the library imports, with the protocol version of this checkout');
  t.ok(existsSync(path.join(project, 'node_modules', 'meshperf', 'dist', 'daemon.cjs')), 'with the daemon bundle in it');
  // report.html inlines uPlot from the package itself: no uplot installed beside it.
  t.ok(existsSync(path.join(project, 'node_modules', 'meshperf', 'dist', 'report', 'vendor', 'uPlot.iife.min.js')), 'with uPlot for report.html in it');
  t.notOk(existsSync(path.join(project, 'node_modules', 'uplot')), 'and no uplot dependency');
});
