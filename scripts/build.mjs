// Build: type-check and compile lib/ to dist/ with tsc, then bundle the daemon into one
// dependency-free CommonJS file (dist/daemon.cjs) that runs on Node >= 16.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
rmSync('dist', { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json'], { stdio: 'inherit' });
// report.html carries uPlot inline (lib/report/uplot.ts): its script, style and licence go
// beside the compiled module, so the package needs no uplot at run time.
mkdirSync('dist/report/vendor', { recursive: true });
for (const f of ['dist/uPlot.iife.min.js', 'dist/uPlot.min.css', 'LICENSE']) {
  const text = readFileSync(require.resolve(`uplot/${f}`), 'utf8');
  if (text.includes('</script')) throw new Error(`uplot/${f} would end report.html's <script> early`);
  writeFileSync(`dist/report/vendor/${path.basename(f)}`, text);
}
await build({
  entryPoints: ['lib/daemon/main.ts'],
  outfile: 'dist/daemon.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node16',
  legalComments: 'none',
  logLevel: 'warning',
});
