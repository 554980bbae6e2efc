/**
 * One JSON-RPC line in, at most one line out. Every request is checked before it reaches the
 * service; anything malformed gets a JSON-RPC error and the daemon carries on.
 */
import { RpcCode, JsonRpcId, JsonRpcResponse } from '../protocol/messages.js';
import { readInterfaces, resolveNames } from './interfaces.js';
import { RpcFailure, DaemonService } from './service.js';
import { preflight, probe } from './check.js';
import { checkCollect, checkEmpty, checkInterfaces, checkPreflight, checkProbe, checkRelease, checkStop, checkStartClients, checkStartServers, ParamError } from './validate.js';

type Handler = (service: DaemonService, params: unknown, range: readonly [number, number]) => unknown;

const HANDLERS: Record<string, Handler> = {
  hello: (s, p) => (checkEmpty(p), s.hello()),
  start_servers: (s, p) => s.startServers(checkStartServers(p)),
  start_clients: (s, p, range) => s.startClients(checkStartClients(p, range)),
  release: (s, p) => s.release(checkRelease(p)),
  status: (s, p) => (checkEmpty(p), s.status()),
  collect: (s, p) => s.collect(checkCollect(p)),
  stop: (s, p) => s.stop(checkStop(p).ids),
  ping: (_s, p) => (checkEmpty(p), { time_ms: Date.now() }),
  preflight: (s, p, range) => preflight(checkPreflight(p).listen, range, s.portsInUse()),
  probe: (_s, p) => probe(checkProbe(p)),
  interfaces: async (_s, p) => {
    const { resolve } = checkInterfaces(p);
    return { ...readInterfaces(), ...(resolve ? { resolved: await resolveNames(resolve) } : {}) };
  },
};

function failure(id: JsonRpcId | null, code: number, message: string): JsonRpcResponse {
  return { jsonrpc: '2.0', id, error: { code, message } };
}

function validId(x: unknown): x is JsonRpcId {
  return (typeof x === 'number' && Number.isFinite(x)) || (typeof x === 'string' && x.length <= 200);
}

/** Answer one line. Returns null for a notification (a request without id), which gets no answer. */
export async function handleLine(
  service: DaemonService,
  line: string,
  range: readonly [number, number],
): Promise<JsonRpcResponse | null> {
  if (line.trim() === '') return null;
  let msg: unknown;
  try {
    msg = JSON.parse(line);
  } catch {
    return failure(null, RpcCode.ParseError, 'parse error: a line is not JSON');
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
    return failure(null, RpcCode.InvalidRequest, 'invalid request: expected a JSON-RPC 2.0 object');
  }
  const req = msg as Record<string, unknown>;
  const id = validId(req.id) ? req.id : null;
  if (req.jsonrpc !== '2.0' || typeof req.method !== 'string' || (req.id !== undefined && id === null)) {
    return failure(id, RpcCode.InvalidRequest, 'invalid request: needs jsonrpc "2.0", a method and a number or string id');
  }
  const handler = Object.prototype.hasOwnProperty.call(HANDLERS, req.method) ? HANDLERS[req.method] : undefined;
  if (!handler) {
    return req.id === undefined
      ? null
      : failure(id, RpcCode.MethodNotFound, `method not found: ${req.method.slice(0, 64)}`);
  }
  try {
    const result = await handler(service, req.params, range);
    return req.id === undefined ? null : { jsonrpc: '2.0', id, result };
  } catch (err) {
    if (req.id === undefined) return null;
    if (err instanceof ParamError) return failure(id, RpcCode.InvalidParams, `invalid params: ${err.message}`);
    if (err instanceof RpcFailure) return failure(id, err.code, err.message);
    return failure(id, RpcCode.InternalError, `internal error: ${(err as Error)?.message ?? String(err)}`);
  }
}
