// Build: type-check and compile lib/ to dist/ with tsc, then bundle the daemon into one
// dependency-free CommonJS file (dist/daemon.cjs) that runs on Node >= 16.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
rmSync('dist', { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json'], { stdio: 'inherit' });
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
