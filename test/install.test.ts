// A newcomer's `npm install` is quiet: every installed package with an install script is decided
// in package.json's allowScripts (npm >= 11.16 warns about each one that is not, and npm 12 skips
// them). What each decision is, and why, is in package.json's history (git log -S allowScripts).
import t from 'tap';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

interface Pkg {
  name: string;
  scripts?: Record<string, string>;
}

/** Every package under node_modules (scoped and nested ones too) that runs something at install. */
function withInstallScripts(dir: string, out = new Set<string>()): Set<string> {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith('.')) continue;
    const at = path.join(dir, entry);
    if (entry.startsWith('@')) {
      withInstallScripts(at, out);
      continue;
    }
    const file = path.join(at, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as Pkg;
    const s = pkg.scripts ?? {};
    // npm runs `node-gyp rebuild` for a binding.gyp when the package says nothing else.
    const gyp = existsSync(path.join(at, 'binding.gyp')) && !s.install && !s.preinstall;
    if (s.preinstall || s.install || s.postinstall || gyp) out.add(pkg.name);
    withInstallScripts(path.join(at, 'node_modules'), out);
  }
  return out;
}

t.test('every install script of a dependency is decided in allowScripts', async (t) => {
  const allow = (JSON.parse(readFileSync('package.json', 'utf8')) as { allowScripts?: Record<string, boolean> }).allowScripts ?? {};
  const decided = new Set(Object.keys(allow).map((k) => k.replace(/(.)@.*$/, '$1')));
  const found = [...withInstallScripts('node_modules')].sort();
  t.ok(found.length > 0, `install scripts found: ${found.join(', ')}`);
  t.same(found.filter((n) => !decided.has(n)), [], 'none left for npm to warn about');
  // Without them ssh2 cannot tell the CPU has AES and prefers chacha20-poly1305 in JavaScript: a
  // Node.js runtime pushed to a host (tens of MB) then took over 60 s on the lab (test/access.test.ts).
  t.same([allow.ssh2, allow['cpu-features']], [true, true], 'ssh2\'s native crypto and cpu-features are built');
});
