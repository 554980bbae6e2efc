/** Running the system tools the lab is built with (ip, ssh-keygen): argv only, errors with stderr. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** `input`, when given, is written to its stdin (e.g. `ip -batch -`). */
export async function run(cmd: string, args: string[], input?: string): Promise<string> {
  try {
    const p = execFileP(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (input !== undefined) p.child.stdin?.end(input);
    const { stdout } = await p;
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')}: ${(e.stderr || e.message).trim()}`);
  }
}

/** Like run, for clean-up steps whose target may already be gone. */
export async function tryRun(cmd: string, args: string[]): Promise<void> {
  await run(cmd, args).catch(() => {});
}
