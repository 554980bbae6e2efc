/**
 * The output directory, proved usable before anything connects: created if missing, and written
 * to (a probe file, removed at once), so that a measurement is never lost for want of a place to
 * put it.
 */
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ensureDir } from '../results/files.js';
import { UsageError } from '../shared/errors.js';

export async function prepareOutDir(dir: string): Promise<void> {
  const probe = path.join(dir, `.meshperf-probe-${process.pid}`);
  try {
    await ensureDir(dir);
    await writeFile(probe, '');
    await rm(probe, { force: true });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UsageError(`output directory ${dir} cannot be written (${e.code ?? e.message}); choose one you can write to`, { cause: err });
  }
}
