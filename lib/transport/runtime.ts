/**
 * A usable Node.js on a host, found or brought. First the host's own `node` (as configured, then
 * on the login shell's PATH, for logins whose PATH is set only for interactive shells). When
 * there is none, or one older than 16, a runtime is streamed over the same SSH connection: the
 * controller's own binary when the host's OS and CPU match, else the one [runtime] names for that
 * platform, gzip-compressed, sha256-checked on arrival, into a private 0700 directory. The daemon's
 * loader deletes that directory as soon as it runs (lib/transport/loader.ts), so nothing stays,
 * whatever happens to the controller or the link later. With keep_runtime it is cached by content
 * hash under the login's cache directory instead, and later runs push nothing.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { RuntimeConfig } from '../inventory/types.js';
import { HostError } from '../shared/errors.js';

/** Runs a POSIX shell script on the host; stdin, when given, is written and closed. */
export type RemoteExec = (script: string, stdin?: Buffer) => Promise<{ code: number; stdout: string; stderr: string }>;

export interface NodeFound {
  /** The node binary to run the daemon with. */
  node: string;
  /** The directory the loader removes when it starts (a runtime pushed for this run only). */
  removeDir: string | null;
  /** Compressed bytes pushed (0 when the host's own node, or a cached runtime, is used). */
  pushedBytes: number;
}

/** The script that looks for a usable node. It prints node=..., or tried=... lines and platform=. */
export function probeScript(node: string): string {
  return [
    'ver() { "$1" -e "process.stdout.write(process.versions.node)" 2>/dev/null; }',
    'ok() { v=$(ver "$1") && [ "${v%%.*}" -ge 16 ] 2>/dev/null; }',
    // What a candidate is, in words: too old (with its version), not running, or not there.
    'why() { v=$(ver "$1"); if [ -n "$v" ]; then echo "Node.js v$v, older than 16"; elif command -v "$1" >/dev/null 2>&1; then echo "it does not run"; else echo "not found"; fi; }',
    `n=${node}`,
    'if ok "$n"; then echo "node=$(command -v "$n" 2>/dev/null || echo "$n")"; exit 0; fi',
    'echo "tried=$n on PATH=$PATH: $(why "$n")"',
    // A login whose PATH (nvm, /opt) is set only by its login shell files, or only for
    // interactive shells (after .bashrc's early return for non-interactive ones, as nvm puts it).
    'if [ "$n" = node ]; then',
    '  for mode in -l -i; do',
    '    p=$("${SHELL:-/bin/sh}" $mode -c "command -v node" </dev/null 2>/dev/null | tail -n 1)',
    '    if [ -n "$p" ] && ok "$p"; then echo "node=$p"; exit 0; fi',
    '    echo "tried=the login shell ${SHELL:-/bin/sh} $mode: ${p:-no node on its PATH}${p:+: $(why "$p")}"',
    '  done',
    'fi',
    'echo "platform=$(uname -s) $(uname -m)"',
  ].join('\n');
}

export interface Probe {
  node: string | null;
  tried: string[];
  platform: string | null;
}

export function parseProbe(text: string): Probe {
  const lines = text.split('\n');
  const value = (k: string) => lines.filter((l) => l.startsWith(`${k}=`)).map((l) => l.slice(k.length + 1));
  return { node: value('node')[0] || null, tried: value('tried'), platform: value('platform')[0] ?? null };
}

/** `uname -s` and `-m` -> Node's "<platform>-<arch>" ("Linux x86_64" -> "linux-x64"). */
export function platformKey(uname: string): string {
  const [os = '', cpu = ''] = uname.trim().split(/\s+/);
  const arch: Record<string, string> = { x86_64: 'x64', amd64: 'x64', aarch64: 'arm64', arm64: 'arm64', armv7l: 'arm', ppc64le: 'ppc64', s390x: 's390x', riscv64: 'riscv64' };
  return `${os.toLowerCase()}-${arch[cpu] ?? cpu}`;
}

interface Packed {
  gz: Buffer;
  sha256: string;
}

const packed = new Map<string, Promise<Packed>>();

/** A node binary, compressed once per process (gzip level 1: 99 MB -> 40 MB in about a second, off the event loop). */
function pack(file: string): Promise<Packed> {
  let p = packed.get(file);
  if (!p) {
    p = readFile(file).then(async (bin) => ({ gz: await promisify(gzip)(bin, { level: 1 }), sha256: createHash('sha256').update(bin).digest('hex') }));
    p.catch(() => packed.delete(file));
    packed.set(file, p);
  }
  return p;
}

/** Which binary to bring to a host of `platform`, or why there is none. */
function binaryFor(platform: string, runtime: RuntimeConfig): string | string[] {
  const own = `${process.platform}-${process.arch}`;
  if (runtime.binaries[platform]) return runtime.binaries[platform]!;
  if (platform === own) return process.execPath;
  return [`the host is ${platform} and the controller's node is ${own}: name a Node.js binary for it, e.g. [runtime] ${platform} = "/path/to/node"`];
}

/** Writes the runtime from stdin: checks it, makes it executable, proves it runs, prints where it is. */
export function uploadScript(sha256: string, keep: boolean): string {
  const place = keep
    ? ['d="${XDG_CACHE_HOME:-$HOME/.cache}/meshperf"', 'mkdir -p "$d" && chmod 700 "$d" || exit 5', `f="$d/node-${sha256}"`, 't="$f.$$"']
    : ['d=$(mktemp -d "${TMPDIR:-/tmp}/meshperf-node.XXXXXX") || exit 5', 'f="$d/node"', 't="$f"'];
  return [
    'umask 077',
    ...place,
    `gzip -dc > "$t" && echo "${sha256}  $t" | sha256sum -c --status || { rm -f "$t"; ${keep ? '' : 'rm -rf "$d"; '}echo "meshperf: the pushed runtime arrived corrupted (sha256 mismatch)" >&2; exit 3; }`,
    'chmod 700 "$t"',
    `"$t" -e "" 2>/dev/null || { rm -f "$t"; ${keep ? '' : 'rm -rf "$d"; '}echo "meshperf: the pushed runtime does not run in $(dirname "$t") (mounted noexec, or a C library older than the one it was built for)" >&2; exit 6; }`,
    ...(keep ? ['mv -f "$t" "$f"'] : []),
    keep ? 'echo "node=$f"' : 'echo "node=$f"; echo "dir=$d"',
  ].join('\n');
}

/** A cached runtime that is still intact: prints node=<path> when there is one. */
function cachedScript(sha256: string): string {
  return `f="\${XDG_CACHE_HOME:-$HOME/.cache}/meshperf/node-${sha256}"; [ -x "$f" ] && echo "${sha256}  $f" | sha256sum -c --status && echo "node=$f"; exit 0`;
}

/** hosts.node goes on a remote command line: plain path characters only. */
export function checkNodePath(node: string): string {
  if (!/^[A-Za-z0-9._\/+-]+$/.test(node)) throw new HostError('no_node', `refusing node path ${JSON.stringify(node)}: letters, digits and . _ / + - only`);
  return node;
}

/** The node to run the daemon with on this host: its own, a cached one, or one pushed now. */
export async function ensureNode(exec: RemoteExec, node: string, runtime: RuntimeConfig): Promise<NodeFound> {
  checkNodePath(node);
  const probe = parseProbe((await exec(probeScript(node))).stdout);
  if (probe.node) return { node: probe.node, removeDir: null, pushedBytes: 0 };
  const tried = probe.tried.join('; ') || `${node}: no answer`;
  if (runtime.push_node === 'never') throw new HostError('no_node', `no usable Node.js (>= 16): tried ${tried}; [runtime] push_node = "never" keeps meshperf from bringing one`);
  const file = binaryFor(platformKey(probe.platform ?? ''), runtime);
  if (Array.isArray(file)) throw new HostError('no_node', `no usable Node.js (>= 16): tried ${tried}; ${file[0]}`);
  const { gz, sha256 } = await pack(file).catch((err: NodeJS.ErrnoException) => {
    throw new HostError('no_node', `no usable Node.js on the host (tried ${tried}), and cannot read ${file} to bring one: ${err.code ?? err.message}`);
  });
  if (runtime.keep_runtime) {
    const cached = parseProbe((await exec(cachedScript(sha256))).stdout).node;
    if (cached) return { node: cached, removeDir: null, pushedBytes: 0 };
  }
  const r = await exec(uploadScript(sha256, runtime.keep_runtime), gz);
  const at = r.stdout.match(/^node=(.+)$/m)?.[1];
  if (r.code !== 0 || !at) throw new HostError('no_node', `no usable Node.js (tried ${tried}), and pushing one failed: ${r.stderr.trim() || `exit ${r.code}`}`);
  return { node: at, removeDir: r.stdout.match(/^dir=(.+)$/m)?.[1] ?? null, pushedBytes: gz.length };
}
