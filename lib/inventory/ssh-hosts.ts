/**
 * Hosts found in an OpenSSH client config: `[discover] ssh_config = "gpu*"` makes every `Host`
 * alias of the config (and the files it Includes) that matches the pattern a host of the mesh,
 * SSH going to the alias and the data to the address OpenSSH resolves it to (`ssh -G`), unless
 * [[hosts]] lists it with other values. Wildcard entries (`Host gpu*`) hold settings, not hosts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InventoryError } from '../shared/errors.js';
import { expandHome } from './paths.js';
import { matchesSshPattern } from '../shared/ssh-pattern.js';
import { readOpenSshConfig } from './openssh-config.js';

/** The literal Host aliases of a config file and its Includes, in order. */
export function hostAliases(file: string, seen = new Set<string>()): string[] {
  if (seen.has(file)) return [];
  seen.add(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(Host|Include)\s+(.+?)\s*$/i.exec(line);
    if (!m) continue;
    const words = m[2]!.split(/\s+/).map((w) => w.replace(/^"(.*)"$/, '$1'));
    if (m[1]!.toLowerCase() === 'host') out.push(...words.filter((w) => !/[*?!]/.test(w)));
    else for (const inc of words.flatMap(includeFiles)) out.push(...hostAliases(inc, seen));
  }
  return [...new Set(out)];
}

/** An Include argument: relative to ~/.ssh, with a * or ? in its last part matched against that directory. */
function includeFiles(arg: string): string[] {
  const abs = arg.startsWith('~') || path.isAbsolute(arg) ? expandHome(arg) : path.join(os.homedir(), '.ssh', arg);
  const dir = path.dirname(abs);
  const base = path.basename(abs);
  if (!/[*?]/.test(base)) return [abs];
  try {
    return readdirSync(dir).filter((f) => matchesSshPattern(base, f, false)).sort().map((f) => path.join(dir, f));
  } catch {
    return [];
  }
}

/** The raw [[hosts]] tables of the aliases matching `pattern` (what a TOML [[hosts]] would hold). */
export async function discoverSshHosts(configFile: string | null, pattern: string, source: string): Promise<Record<string, string>[]> {
  if (!configFile) throw new InventoryError(source, [`discover.ssh_config: there is no OpenSSH config to read (set [ssh] config, or create ~/.ssh/config)`]);
  const aliases = hostAliases(configFile).filter((a) => matchesSshPattern(pattern, a));
  if (aliases.length === 0) throw new InventoryError(source, [`discover.ssh_config: "${pattern}" matches no Host alias of ${configFile} (wildcard Host entries are settings, not hosts)`]);
  return Promise.all(
    aliases.map(async (alias) => {
      const view = await readOpenSshConfig(configFile, alias).catch((err: Error) => {
        throw new InventoryError(source, [`discover.ssh_config: ${alias}: ${err.message}`]);
      });
      return { name: alias, ssh_host: alias, address: view.hostname || alias };
    }),
  );
}
