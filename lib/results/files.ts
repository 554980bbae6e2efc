/** Files that appear whole or not at all, in directories made safely. */
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
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
  await writePiecesAtomic(file, [text]);
}

/** Flush to the file once this much text is waiting: few syscalls, a bounded buffer. */
const CHUNK_CHARS = 1 << 20;

/** Write the pieces to `file` whole or not at all: a temporary name, then a rename. */
export async function writePiecesAtomic(file: string, pieces: Iterable<string>): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    let buf = '';
    for (const p of pieces) {
      buf += p;
      if (buf.length >= CHUNK_CHARS) {
        await fh.write(buf);
        buf = '';
      }
    }
    await fh.write(buf);
    await fh.close();
  } catch (err) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
  await rename(tmp, file);
}
