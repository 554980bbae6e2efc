/**
 * OpenSSH known_hosts checking, because ssh2 accepts any host key unless told otherwise.
 * Supports hashed names (|1|salt|hmac), [host]:port entries, wildcards, negation and @revoked.
 */
import { createHash, createHmac } from 'node:crypto';
import { matchesSshPattern } from '../shared/ssh-pattern.js';

export interface KnownKey {
  type: string;
  key: Buffer;
  marker: '' | '@revoked' | '@cert-authority';
}

export type Verdict = 'ok' | 'mismatch' | 'unknown' | 'revoked';

/** The name OpenSSH looks up: "host" on port 22, "[host]:port" otherwise. */
export function lookupName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function hashedMatch(entry: string, name: string): boolean {
  const [, magic, salt, hash] = entry.split('|');
  if (magic !== '1' || !salt || !hash) return false;
  return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
}

/** Does one comma-separated host pattern list match `name`? A negated match wins. */
function patternsMatch(patterns: string, name: string): boolean {
  let matched = false;
  for (const p of patterns.split(',')) {
    if (p.startsWith('|')) {
      if (hashedMatch(p, name)) matched = true;
    } else if (p.startsWith('!')) {
      if (matchesSshPattern(p.slice(1), name)) return false;
    } else if (matchesSshPattern(p, name)) matched = true;
  }
  return matched;
}

/** Every key known_hosts lists for this host and port. */
export function keysFor(text: string, host: string, port: number): KnownKey[] {
  const name = lookupName(host, port);
  const out: KnownKey[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const f = line.split(/\s+/);
    const marker = f[0] === '@revoked' || f[0] === '@cert-authority' ? (f.shift() as KnownKey['marker']) : '';
    const [patterns, type, b64] = f;
    if (!patterns || !type || !b64) continue;
    if (patternsMatch(patterns, name)) out.push({ type, key: Buffer.from(b64, 'base64'), marker });
  }
  return out;
}

/** Compare the key a host presented with what known_hosts says about it. */
export function verify(known: KnownKey[], presented: Buffer): Verdict {
  if (known.some((k) => k.marker === '@revoked' && k.key.equals(presented))) return 'revoked';
  const plain = known.filter((k) => k.marker === '');
  if (plain.some((k) => k.key.equals(presented))) return 'ok';
  return plain.length > 0 ? 'mismatch' : 'unknown';
}

/** "SHA256:…" as OpenSSH prints it. */
export function fingerprint(key: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(key).digest('base64').replace(/=+$/, '');
}

/** The key type inside an SSH public key blob (its first length-prefixed string). */
export function keyType(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const n = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + n).toString('latin1');
}

/**
 * Host key algorithms to offer, limited to the types known_hosts has for this host, so that a
 * host with several keys does not show one we have never seen and look "changed".
 */
export function preferredAlgorithms(known: KnownKey[]): string[] | undefined {
  const types = new Set(known.filter((k) => k.marker === '').map((k) => k.type));
  if (types.size === 0) return undefined;
  const algos: string[] = [];
  for (const t of types) {
    if (t === 'ssh-rsa') algos.push('rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa');
    else algos.push(t);
  }
  return algos;
}
