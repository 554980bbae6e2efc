/** Running the system tools the lab is built with (ip, ssh-keygen): argv only, errors with stderr. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export async function run(cmd: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileP(cmd, args, { encoding: 'utf8' });
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
