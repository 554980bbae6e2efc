/**
 * A newer iperf3 than Debian 12's 3.12, for mixed-version tests: Debian 13's 3.18 with its own
 * libc, fetched with apt-get into a private directory (the machine's apt setup is not touched)
 * and run through its own dynamic loader. Returns the path of a wrapper, or why it could not.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const PACKAGES = ['iperf3', 'libiperf0', 'libc6', 'libssl3t64', 'libsctp1'];

export function fetchTrixieIperf3(dir: string): { path: string } | { skip: string } {
  try {
    if (execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim() !== 'amd64') return { skip: 'only set up for amd64' };
    for (const d of ['sources', 'lists/partial', 'cache/archives/partial', 'debs', 'root']) mkdirSync(path.join(dir, d), { recursive: true });
    writeFileSync(
      path.join(dir, 'sources', 'trixie.sources'),
      'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n',
    );
    const apt = [
      '-qq',
      '-o', 'Dir::Etc::sourcelist=-',
      '-o', `Dir::Etc::sourceparts=${path.join(dir, 'sources')}`,
      '-o', `Dir::State::Lists=${path.join(dir, 'lists')}`,
      '-o', `Dir::Cache=${path.join(dir, 'cache')}`,
      '-o', 'Debug::NoLocking=1',
      '-o', 'APT::Sandbox::User=root',
    ];
    execFileSync('apt-get', [...apt, 'update'], { stdio: 'pipe', timeout: 120_000 });
    execFileSync('apt-get', [...apt, 'download', ...PACKAGES], { cwd: path.join(dir, 'debs'), stdio: 'pipe', timeout: 120_000 });
    for (const deb of readdirSync(path.join(dir, 'debs'))) execFileSync('dpkg-deb', ['-x', path.join(dir, 'debs', deb), path.join(dir, 'root')]);
    const root = path.join(dir, 'root');
    const lib = path.join(root, 'usr/lib/x86_64-linux-gnu');
    const wrapper = path.join(dir, 'iperf3-3.18');
    writeFileSync(wrapper, `#!/bin/sh\nexec ${lib}/ld-linux-x86-64.so.2 --library-path ${lib} ${root}/usr/bin/iperf3 "$@"\n`);
    chmodSync(wrapper, 0o755);
    const version = execFileSync(wrapper, ['--version'], { encoding: 'utf8' });
    if (!/iperf 3\.1[7-9]|iperf 3\.[2-9]\d/.test(version)) return { skip: `Debian 13's iperf3 says ${version.split('\n')[0]}` };
    return { path: wrapper };
  } catch (err) {
    return { skip: `cannot fetch Debian 13's iperf3 from the package registry: ${(err as Error).message.split('\n')[0]}` };
  }
}
