/**
 * How the daemon reaches a host without writing a file there: one command runs `node -e` with a
 * fixed, tiny loader that reads exactly <length> bytes of the bundle from stdin, checks their
 * sha256, and runs them in the same process. The same stdin/stdout then carry the JSON-RPC.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DaemonOptions } from '../protocol/messages.js';

/**
 * The loader. It holds no single quote (it is single-quoted in the command) and runs on old
 * Node. Bytes read past the bundle are put back with unshift, so a request sent right behind the
 * bundle is not lost; stdin stays paused until the daemon attaches its reader and resumes it.
 */
export const LOADER_JS = [
  'if(+process.versions.node.split(".")[0]<16){process.stderr.write("meshperf: Node.js >= 16 needed, this is "+process.version+"\\n");process.exit(4)}',
  // The first sign of a usable node: the controller starts the loader with the host's `node`
  // straight away, and looks for a runtime only when this line does not come (loaderStarted).
  'process.stderr.write("meshperf-loader: started\\n");',
  // A runtime pushed for this run: its directory goes as soon as it runs (Linux keeps a running binary).
  'if(process.argv[4])require("fs").rmSync(process.argv[4],{recursive:true,force:true});',
  'const n=+process.argv[1],h=process.argv[2],s=process.stdin;let b=[],l=0;',
  'function f(c){b.push(c);l+=c.length;if(l<n)return;s.removeListener("data",f);s.pause();',
  'const a=Buffer.concat(b),code=a.subarray(0,n);if(a.length>n)s.unshift(a.subarray(n));',
  'if(require("crypto").createHash("sha256").update(code).digest("hex")!==h){',
  'process.stderr.write("meshperf: daemon bundle checksum mismatch\\n");process.exit(3)}',
  'const M=require("module"),m=new M("meshperf-daemon");m.filename="meshperf-daemon";m.paths=[];',
  'm._compile(code.toString("utf8"),"meshperf-daemon")}',
  's.on("data",f);s.on("end",function(){if(l<n)process.exit(3)})',
].join('');

/** The loader's first line on stderr: a node of 16 or later runs it. Not a daemon log line. */
export const LOADER_STARTED = 'meshperf-loader: started';

export interface DaemonBundle {
  code: Buffer;
  sha256: string;
}

let cached: DaemonBundle | undefined;

/**
 * The bundled daemon, read once: dist/daemon.cjs beside the compiled controller, or, when the
 * controller runs from its TypeScript source (tests), the one `npm run build` made.
 */
export function daemonBundle(): DaemonBundle {
  if (!cached) {
    const candidates = ['../daemon.cjs', '../../dist/daemon.cjs'].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));
    const file = candidates.find((f) => existsSync(f));
    if (!file) throw new Error(`daemon bundle not found (${candidates.join(', ')}): run npm run build`);
    const code = readFileSync(file);
    cached = { code, sha256: createHash('sha256').update(code).digest('hex') };
  }
  return cached;
}

/** Only these characters may reach the remote shell, outside the loader's fixed text. */
const SAFE_WORD = /^[A-Za-z0-9._\/+-]+$/;

/**
 * Arguments after `node -e <loader>`: length, sha256, options as base64url JSON, and the
 * directory of a pushed runtime to remove, if any.
 */
export function loaderArgs(bundle: DaemonBundle, options: DaemonOptions, removeDir?: string | null): string[] {
  return [String(bundle.code.length), bundle.sha256, Buffer.from(JSON.stringify(options)).toString('base64url'), ...(removeDir ? [removeDir] : [])];
}

/**
 * The remote command line: fixed text plus words that are checked against SAFE_WORD, so
 * inventory values can never become shell code.
 */
export function loaderCommand(node: string, bundle: DaemonBundle, options: DaemonOptions, removeDir?: string | null): string {
  const words = [node, ...loaderArgs(bundle, options, removeDir)];
  for (const w of words) {
    if (!SAFE_WORD.test(w)) throw new Error(`refusing to put ${JSON.stringify(w)} on a remote command line`);
  }
  return `exec ${words[0]} -e '${LOADER_JS}' ${words.slice(1).join(' ')}`;
}
