/** Files that appear whole or not at all, in directories made safely. */
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * mkdir -p that cannot spin: Node's recursive mkdir loops for ever where the kernel answers
 * ENOENT for a directory whose parent exists (/proc/x), so each missing level is made in turn.
 */
export async function ensureDir(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = path.resolve(dir); !(await isDir(d)); d = path.dirname(d)) {
    missing.unshift(d);
    if (path.dirname(d) === d) break;
  }
  for (const d of missing) {
    await mkdir(d).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
  }
}

async function isDir(d: string): Promise<boolean> {
  return stat(d).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

export async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}
