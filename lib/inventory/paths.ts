import os from 'node:os';
import path from 'node:path';

/** A local path as a user writes it: `~` at the start is their home; the result is absolute. */
export function expandHome(p: string): string {
  return path.resolve(p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p);
}
