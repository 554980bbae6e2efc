/**
 * The `local` transport: the same loader and daemon as over SSH, as a child process of the
 * controller. For the demo where no root is available, and for tests of the daemon itself.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { daemonBundle, LOADER_JS, loaderArgs } from './loader.js';
import type { DaemonChannel, OpenRequest, Transport } from './types.js';

export const localTransport: Transport = {
  name: 'local',
  async open(req: OpenRequest): Promise<DaemonChannel> {
    const bundle = daemonBundle();
    const node = req.host.node === 'node' ? process.execPath : req.host.node;
    const child = spawn(node, ['-e', LOADER_JS, ...loaderArgs(bundle, req.options)], {
      stdio: ['pipe', 'pipe', 'pipe'],
      // Its own process group, as under sshd: the daemon releases held clients with one signal
      // to its group, which must not reach the controller's.
      detached: true,
    });
    const closed = once(child, 'close').then(() => undefined, () => undefined);
    child.stdin.on('error', () => {}); // the daemon may be gone; closed tells the story
    child.stdin.write(bundle.code);
    return {
      stdin: child.stdin,
      stdout: child.stdout,
      stderr: child.stderr,
      closed,
      async close() {
        child.stdin.end();
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await closed;
        clearTimeout(timer);
      },
      abort() {
        child.stdin.destroy();
      },
    };
  },
};
