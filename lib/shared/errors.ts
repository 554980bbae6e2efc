/**
 * meshperf's error vocabulary: every code a user can see in results (`error.code`), what it
 * means and what to do about it, and the error classes the library throws. The schema's enum
 * (schemas/results.schema.json) and the table in docs/results.md follow from ERROR_CODES
 * (`npm run sync-docs` writes them; test/errors.test.ts checks they agree).
 */

export type ErrorPlace = 'host' | 'pair' | 'instance';

export interface ErrorCodeInfo {
  /** Where the code appears: on a host (and the pairs it skips), or on an instance. */
  where: ErrorPlace[];
  meaning: string;
  /** What to do about it. */
  fix: string;
}

export const ERROR_CODES = {
  unreachable: { where: ['host'], meaning: 'no TCP connection or SSH handshake after every attempt', fix: 'check that the host is up and sshd listens on the address and port; raise `ssh.connect_attempts` or `ssh.connect_timeout` for slow hosts' },
  ssh_config: { where: ['host'], meaning: 'the OpenSSH client config could not be read for this host (`ssh -G` failed, or no `ssh` to read it with)', fix: 'the message carries OpenSSH\'s words; fix the file, install openssh-client, or set `[ssh] config = false`' },
  jump_failed: { where: ['host'], meaning: 'a jump host (ProxyJump / `jump`) in front of this host failed: unreachable, refused, or it would not forward', fix: 'the message names the jump host and why; every host behind it fails the same way, so fix that one first' },
  auth: { where: ['host'], meaning: 'authentication refused, or the identity file unusable', fix: 'check `user` and `identity_file` (or the keys in ssh-agent, then ~/.ssh/id_*); for an encrypted key set `MESHPERF_SSH_PASSPHRASE` or load it into ssh-agent' },
  host_key_unknown: { where: ['host'], meaning: "the host's key is not in known_hosts", fix: 'check the fingerprint and add the key (`ssh-keyscan`, or one `ssh` login), or run with `--accept-new-host-keys`' },
  host_key_mismatch: { where: ['host'], meaning: 'the host presented a key that known_hosts does not list for it, or a `@revoked` one', fix: 'find out why the key changed (reinstall, or someone in the middle) before you remove the old entry' },
  exec: { where: ['host'], meaning: 'sshd refused to run the daemon command', fix: "check the account's shell and sshd's `ForceCommand` / `MaxSessions`" },
  no_node: { where: ['host'], meaning: 'no usable Node.js on the host (none, one that does not run, or one older than 16), and none could be brought', fix: 'let meshperf push one (`[runtime] push_node = "auto"`, the default; for another OS or CPU name a binary, e.g. `[runtime] linux-arm64 = "/path/to/node"`), install Node.js 16 or newer, or set `node` to its absolute path' },
  no_iperf3: { where: ['host'], meaning: 'iperf3 not found, not runnable, or older than 3.9', fix: 'install iperf3 (e.g. `apt-get install iperf3`), or set `hosts.iperf3` to its absolute path' },
  daemon: { where: ['host'], meaning: 'the daemon did not start or did not say ready', fix: "read the message: it carries the daemon's last words on stderr" },
  daemon_checksum: { where: ['host'], meaning: 'the daemon bundle arrived corrupted (sha256 mismatch)', fix: 'look for something that rewrites the SSH session (a login banner on stdin, a wrapper shell)' },
  protocol: { where: ['host'], meaning: 'the daemon speaks another protocol version than the controller', fix: 'run the same meshperf version everywhere (the daemon is pushed by the controller, so this means a modified bundle)' },
  protocol_error: { where: ['host', 'instance'], meaning: 'the host answered with something meshperf\'s protocol does not allow (a field missing or of the wrong type); nothing it said is kept', fix: 'the message names the request and the field: look for something on the host standing in for Node.js or the daemon (a wrapper script, another program called `node`)' },
  cpus: { where: ['host'], meaning: "none of the host's `cpus` is in the login's CPU affinity list", fix: 'set `hosts.cpus` to cores the login may use (see `taskset -pc $$` on the host)' },
  max_processes: { where: ['host'], meaning: 'the plan needs more iperf3 processes at once than the host\'s `max_processes`', fix: 'raise `max_processes`, or lower `processes`' },
  clock: { where: ['host'], meaning: "the host's clock could not be measured", fix: 'the host answered too slowly or not at all: look at its load and its link' },
  servers: { where: ['host'], meaning: 'the request to start its iperf3 servers failed (no answer in time, or the connection closed)', fix: 'look at the host\'s load; the message says what happened' },
  no_free_port: { where: ['host'], meaning: 'the daemon found too few free ports in `port_range` for its servers', fix: 'widen `test.port_range`, or free the ports that other programs hold' },
  spawn_failed: { where: ['host', 'instance'], meaning: 'an iperf3 process could not be started, or its server did not come up listening', fix: 'the message carries iperf3\'s own words (a port taken, an address the host does not have)' },
  too_many_processes: { where: ['host', 'instance'], meaning: 'the daemon refused to run more iperf3 processes than `max_processes`', fix: 'raise `max_processes`, or lower `processes`' },
  invalid_params: { where: ['host', 'instance'], meaning: 'the daemon refused a request as malformed, or an option this iperf3 cannot do', fix: 'the message names the field; an option needing a newer iperf3 needs it on that host' },
  daemon_error: { where: ['host', 'instance'], meaning: 'the daemon failed inside while it served a request', fix: 'a bug: report it with the message' },
  host_lost: { where: ['host', 'pair'], meaning: 'contact with the host was lost during the run (link cut, crash, or silent far longer than its work explains)', fix: 'check the host and its management link; what was measured before is kept' },
  interrupted: { where: ['host', 'instance'], meaning: 'the run was interrupted (Ctrl-C, SIGTERM, or the caller\'s AbortSignal); an instance keeps what it measured until then', fix: 'run again for a complete measurement' },
  host_failed: { where: ['pair'], meaning: 'one host of the pair could not take part', fix: "see that host's own error" },
  start_clients: { where: ['instance'], meaning: "the request to prepare or release the source host's clients failed (no answer in time, or the connection closed)", fix: "look at the source host's load and link" },
  collect: { where: ['instance'], meaning: "the request to collect the host's results failed", fix: "look at the host's load and link; results the daemon still held are lost with it" },
  message_too_large: { where: ['host', 'instance'], meaning: 'a message passed a size bound: a line over 16 MiB, or an answer over 400 MiB (answers over 1 MiB come in pieces and are whole)', fix: 'the message names the size; a daemon of this meshperf never writes such a line, so look for something rewriting the session; for an answer, collect fewer or shorter tests per run' },
  iperf3: { where: ['instance'], meaning: 'iperf3 reported an error, exited non-zero, or printed no summary', fix: "the message carries iperf3's own words (e.g. the server is busy: another program uses that port)" },
  timeout: { where: ['instance'], meaning: 'the client hung past its duration and was killed, or still ran when results were collected', fix: 'a peer or link went away mid-test, or the hosts were far overloaded' },
  no_client: { where: ['instance'], meaning: 'the server started but its client never did', fix: "see the client host's error" },
  no_server: { where: ['instance'], meaning: 'no server was started for this instance', fix: "see the server host's error" },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An error as results carry it. */
export interface ErrorInfo {
  code: ErrorCode;
  message: string;
}

/** The words for the daemon's JSON-RPC error numbers (lib/protocol/messages.ts RpcCode). */
export const RPC_ERROR_WORDS: Readonly<Record<number, ErrorCode>> = {
  [-32001]: 'spawn_failed',
  [-32002]: 'no_free_port',
  [-32003]: 'message_too_large',
  [-32004]: 'too_many_processes',
  [-32602]: 'invalid_params',
  [-32603]: 'daemon_error',
};

/** A failure with a code from the vocabulary; `cause` keeps what it came from. */
export class MeshperfError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }

  toInfo(): ErrorInfo {
    return { code: this.code, message: this.message };
  }
}

/** A failure to reach, start or keep the daemon on one host. */
export class HostError extends MeshperfError {}

/**
 * Bad input, found before anything connects (the CLI exits 2): an inventory or options that do
 * not check, one line per problem naming the place and the fix.
 */
export class InventoryError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source}: ${problems.length === 1 ? problems[0] : '\n  - ' + problems.join('\n  - ')}`);
    this.name = 'InventoryError';
  }
}

/** A flag or output directory that cannot be used as given (the CLI exits 2). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A lab request that cannot be carried out as asked (the CLI exits 2). */
export class LabError extends Error {
  override name = 'LabError';
}
