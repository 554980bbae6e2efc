/**
 * Checks of every RPC request's params. The daemon has no runtime dependencies, so these are
 * small hand-written checks; each failure names the field and what is allowed.
 */
import { checkValue, CLIENT_OPTIONS, OPTIONS, optionConflicts } from '../shared/options.js';
import type { OptionSpec } from '../shared/options.js';
import { START_AT_WINDOW_MS } from '../protocol/timeouts.js';
import type {
  PreflightParams,
  ProbeParams,
  InterfacesParams,
  ClientSpec,
  CollectParams,
  DaemonOptions,
  InstanceLabel,
  IperfOptions,
  ReleaseParams,
  ServerSpec,
  StartClientsParams,
  StartServersParams,
  StopParams,
} from '../protocol/messages.js';

export class ParamError extends Error {}

type Obj = Record<string, unknown>;

/** Longest list one request may carry: bounds the work one message can ask for. */
const MAX_ITEMS = 4096;
const LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
/** Host names and IPv4/IPv6 literals; no spaces, quotes or shell metacharacters. */
/** An IP address (IPv6 "::1", a link-local one with its %zone) or a host name. */
const ADDRESS = /^[A-Za-z0-9:][A-Za-z0-9.:_%-]{0,252}$/;
const ID = /^[A-Za-z0-9._>#:-]{1,200}$/;

function obj(x: unknown, path: string): Obj {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new ParamError(`${path} must be an object`);
  return x as Obj;
}

function optionalObj(x: unknown, path: string): Obj {
  return x === undefined || x === null ? {} : obj(x, path);
}

function str(x: unknown, path: string, pattern: RegExp, what: string): string {
  if (typeof x !== 'string' || !pattern.test(x)) throw new ParamError(`${path} must be ${what}`);
  return x;
}

function int(x: unknown, path: string, min: number, max: number): number {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max) {
    throw new ParamError(`${path} must be an integer from ${min} to ${max}`);
  }
  return x;
}

function list<T>(x: unknown, path: string, item: (v: unknown, p: string) => T): T[] {
  if (!Array.isArray(x) || x.length === 0 || x.length > MAX_ITEMS) {
    throw new ParamError(`${path} must be a list of 1 to ${MAX_ITEMS} items`);
  }
  return x.map((v, i) => item(v, `${path}[${i}]`));
}

function label(o: Obj, path: string): InstanceLabel {
  return {
    id: str(o.id, `${path}.id`, ID, 'an instance id (letters, digits and . _ > # : -)'),
    source: str(o.source, `${path}.source`, LABEL, 'a host name'),
    destination: str(o.destination, `${path}.destination`, LABEL, 'a host name'),
    instance: int(o.instance, `${path}.instance`, 0, 65535),
  };
}

export function checkStartServers(params: unknown): StartServersParams {
  const p = obj(params, 'params');
  const servers = list(p.servers, 'params.servers', (v, path): ServerSpec => {
    const o = obj(v, path);
    return { ...label(o, path), bind: str(o.bind, `${path}.bind`, ADDRESS, 'an IP address or host name') };
  });
  const out: StartServersParams = { servers };
  if (p.idle_timeout !== undefined) out.idle_timeout = int(p.idle_timeout, 'params.idle_timeout', 1, 86400);
  if (p.hold !== undefined) out.hold = bool(p.hold, 'params.hold');
  return out;
}

function bool(x: unknown, path: string): boolean | undefined {
  if (x === undefined) return undefined;
  if (typeof x !== 'boolean') throw new ParamError(`${path} must be true or false`);
  return x;
}

/** A client's options: exactly the table's client options, each within its range. */
function iperfOptions(x: unknown, path: string): IperfOptions {
  const o = obj(x, path);
  const extra = Object.keys(o).filter((k) => !(CLIENT_OPTIONS as string[]).includes(k));
  if (extra.length) throw new ParamError(`${path} has unknown fields: ${extra.join(', ')}`);
  for (const k of CLIENT_OPTIONS) {
    const required = (OPTIONS[k] as OptionSpec).default !== undefined && OPTIONS[k].kind !== 'bool';
    if (o[k] === undefined && !required) continue;
    const problem = checkValue(k, o[k]);
    if (problem) throw new ParamError(`${path}.${k} ${problem}`);
  }
  const conflicts = optionConflicts(o);
  if (conflicts.length) throw new ParamError(`${path}: ${conflicts.join('; ')}`);
  return o as unknown as IperfOptions;
}

export function checkStartClients(params: unknown, range: readonly [number, number]): StartClientsParams {
  const p = obj(params, 'params');
  const clients = list(p.clients, 'params.clients', (v, path): ClientSpec => {
    const o = obj(v, path);
    const spec: ClientSpec = {
      ...label(o, path),
      host: str(o.host, `${path}.host`, ADDRESS, 'an IP address or host name'),
      port: int(o.port, `${path}.port`, range[0], range[1]),
      options: iperfOptions(o.options, `${path}.options`),
    };
    if (o.bind !== undefined) spec.bind = str(o.bind, `${path}.bind`, ADDRESS, 'an IP address or host name');
    return spec;
  });
  const out: StartClientsParams = { clients };
  if (p.live !== undefined) out.live = bool(p.live, 'params.live');
  if (p.intervals !== undefined) out.intervals = bool(p.intervals, 'params.intervals');
  if (p.release_within_ms !== undefined) out.release_within_ms = int(p.release_within_ms, 'params.release_within_ms', 1000, 86_400_000);
  return out;
}

/** A start instant more than a minute away is a bug or a clock problem, not a plan. */
function startAt(p: Obj): { start_at?: number } {
  return p.start_at === undefined ? {} : { start_at: int(p.start_at, 'params.start_at', Date.now() - START_AT_WINDOW_MS, Date.now() + START_AT_WINDOW_MS) };
}

export function checkRelease(params: unknown): ReleaseParams {
  const p = optionalObj(params, 'params');
  const extra = Object.keys(p).filter((k) => k !== 'start_at' && k !== 'servers');
  if (extra.length > 0) throw new ParamError(`params has unknown fields: ${extra.join(', ')}`);
  const out: ReleaseParams = startAt(p);
  if (p.servers !== undefined) out.servers = list(p.servers, 'params.servers', (v, path) => str(v, path, ID, 'an instance id'));
  return out;
}

export function checkCollect(params: unknown): CollectParams {
  const p = optionalObj(params, 'params');
  const out: CollectParams = {};
  if (p.wait_ms !== undefined) out.wait_ms = int(p.wait_ms, 'params.wait_ms', 0, 86_400_000);
  if (p.ids !== undefined) out.ids = list(p.ids, 'params.ids', (v, path) => str(v, path, ID, 'an instance id'));
  if (p.role !== undefined) {
    if (p.role !== 'client' && p.role !== 'server') throw new ParamError('params.role must be "client" or "server"');
    out.role = p.role;
  }
  return out;
}

export function checkStop(params: unknown): StopParams {
  const p = optionalObj(params, 'params');
  const extra = Object.keys(p).filter((k) => k !== 'ids');
  if (extra.length > 0) throw new ParamError(`params has unknown fields: ${extra.join(', ')}`);
  return p.ids === undefined ? {} : { ids: list(p.ids, 'params.ids', (v, path) => str(v, path, ID, 'an instance id')) };
}

export function checkInterfaces(params: unknown): InterfacesParams {
  const p = optionalObj(params, 'params');
  const extra = Object.keys(p).filter((k) => k !== 'resolve');
  if (extra.length > 0) throw new ParamError(`params has unknown fields: ${extra.join(', ')}`);
  return p.resolve === undefined ? {} : { resolve: list(p.resolve, 'params.resolve', (v, path) => str(v, path, ADDRESS, 'a host name')) };
}

export function checkEmpty(params: unknown): void {
  const p = optionalObj(params, 'params');
  const extra = Object.keys(p);
  if (extra.length > 0) throw new ParamError(`params takes no fields, got ${extra.join(', ')}`);
}

/** The launch options, decoded from base64url JSON on the command line. */
export function checkOptions(encoded: string | undefined): DaemonOptions {
  if (!encoded) throw new ParamError('missing daemon options argument');
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    throw new ParamError('daemon options are not base64url JSON');
  }
  const o = obj(raw, 'options');
  const iperf3 = str(o.iperf3, 'options.iperf3', /^(iperf3|\/[A-Za-z0-9._+\/-]+)$/, 'an absolute path');
  if (!Array.isArray(o.port_range) || o.port_range.length !== 2) {
    throw new ParamError('options.port_range must be [low, high]');
  }
  const lo = int(o.port_range[0], 'options.port_range[0]', 1, 65535);
  const hi = int(o.port_range[1], 'options.port_range[1]', lo, 65535);
  const heartbeat_ms = int(o.heartbeat_ms, 'options.heartbeat_ms', 1000, 3_600_000);
  const out: DaemonOptions = { iperf3, port_range: [lo, hi], heartbeat_ms };
  if (o.cpus !== undefined) out.cpus = list(o.cpus, 'options.cpus', (v, path) => int(v, path, 0, 4095));
  if (o.max_processes !== undefined) out.max_processes = int(o.max_processes, 'options.max_processes', 2, 65535);
  return out;
}

export function checkPreflight(params: unknown): PreflightParams {
  const p = obj(params, 'params');
  const extra = Object.keys(p).filter((k) => k !== 'listen');
  if (extra.length > 0) throw new ParamError(`params has unknown fields: ${extra.join(', ')}`);
  return { listen: list(p.listen, 'params.listen', (v, path) => str(v, path, ADDRESS, 'an address')) };
}

export function checkProbe(params: unknown): ProbeParams {
  const p = obj(params, 'params');
  const extra = Object.keys(p).filter((k) => k !== 'targets' && k !== 'timeout_ms');
  if (extra.length > 0) throw new ParamError(`params has unknown fields: ${extra.join(', ')}`);
  const targets = list(p.targets, 'params.targets', (v, path) => {
    const t = obj(v, path);
    return {
      address: str(t.address, `${path}.address`, ADDRESS, 'an address'),
      port: int(t.port, `${path}.port`, 1, 65535),
      ...(t.bind === undefined ? {} : { bind: str(t.bind, `${path}.bind`, ADDRESS, 'an address') }),
    };
  });
  return { targets, timeout_ms: int(p.timeout_ms, 'params.timeout_ms', 1, 60_000) };
}
