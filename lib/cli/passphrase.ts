/**
 * Asking for the passphrase of an encrypted identity file, on a terminal, without echo. Only the
 * CLI asks; the library takes it from the inventory object or MESHPERF_SSH_PASSPHRASE.
 */
import readline from 'node:readline';
import { Writable } from 'node:stream';
import { needsPassphrase } from '../index.js';
import type { Inventory } from '../index.js';

/** Prompt once per encrypted identity file that has no passphrase yet; returns how many were asked. */
export async function askPassphrases(inventory: Inventory, input: NodeJS.ReadStream, output: NodeJS.WritableStream, env: NodeJS.ProcessEnv, onInterrupt: () => void): Promise<number> {
  if (env.MESHPERF_SSH_PASSPHRASE || !input.isTTY || inventory.transport === 'local') return 0;
  const files = [...new Set(inventory.hosts.map((h) => h.ssh.identity_file).filter((f): f is string => Boolean(f)))];
  let asked = 0;
  for (const file of files) {
    if (!(await needsPassphrase(file))) continue;
    const passphrase = await askHidden(`Passphrase for ${file}: `, input, output, onInterrupt);
    asked++;
    for (const h of inventory.hosts) if (h.ssh.identity_file === file) h.ssh.passphrase = passphrase;
  }
  return asked;
}

function askHidden(prompt: string, input: NodeJS.ReadStream, output: NodeJS.WritableStream, onInterrupt: () => void): Promise<string> {
  let muted = false;
  // Echo the prompt, then nothing of what is typed.
  const sink = new Writable({
    write(chunk, _enc, done) {
      if (!muted) output.write(chunk);
      done();
    },
  });
  const rl = readline.createInterface({ input, output: sink, terminal: true });
  // Ctrl-C at the prompt: leave as Ctrl-C always does (the terminal is raw while we read).
  rl.on('SIGINT', () => {
    rl.close();
    output.write('\n');
    onInterrupt();
  });
  return new Promise((resolve) => {
    rl.question(prompt, (answer) => {
      rl.close();
      output.write('\n');
      resolve(answer);
    });
    muted = true;
  });
}
