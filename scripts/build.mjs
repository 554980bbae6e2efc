// Build: type-check and compile lib/ to dist/ with tsc, then bundle the daemon into one
// dependency-free CommonJS file (dist/daemon.cjs) that runs on Node >= 16.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
rmSync('dist', { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json'], { stdio: 'inherit' });
// report.html carries uPlot inline (lib/report/uplot.d.ts): its script and style, as text.
const uplot = (f) => readFileSync(require.resolve(`uplot/dist/${f}`), 'utf8');
writeFileSync('dist/report/uplot.js', `export const UPLOT_JS = ${JSON.stringify(uplot('uPlot.iife.min.js'))};\nexport const UPLOT_CSS = ${JSON.stringify(uplot('uPlot.min.css'))};\n`);
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
