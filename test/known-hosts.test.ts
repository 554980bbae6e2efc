import t from 'tap';
import { createHmac } from 'node:crypto';
import { fingerprint, keysFor, keyType, lookupName, preferredAlgorithms, verify } from '../lib/transport/known-hosts.js';

function blob(type: string, body: string): Buffer {
  const tb = Buffer.from(type);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(tb.length);
  return Buffer.concat([len, tb, Buffer.from(body)]);
}
const KEY_A = blob('ssh-ed25519', 'key-a-bytes');
const KEY_B = blob('ssh-ed25519', 'key-b-bytes');
const KEY_R = blob('ssh-rsa', 'rsa-bytes');

function hashed(name: string): string {
  const salt = Buffer.from('0123456789abcdef0123');
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

const TEXT = [
  '# comment',
  `198.18.0.11 ssh-ed25519 ${KEY_A.toString('base64')}`,
  `${hashed('198.18.0.12')} ssh-ed25519 ${KEY_B.toString('base64')}`,
  `[198.18.0.13]:2222 ssh-ed25519 ${KEY_A.toString('base64')}`,
  `*.lab.example,!bad.lab.example ssh-rsa ${KEY_R.toString('base64')}`,
  `@revoked 198.18.0.14 ssh-ed25519 ${KEY_B.toString('base64')}`,
  `198.18.0.14 ssh-ed25519 ${KEY_A.toString('base64')}`,
].join('\n');

t.test('plain, hashed and [host]:port entries are found', async (t) => {
  t.equal(verify(keysFor(TEXT, '198.18.0.11', 22), KEY_A), 'ok');
  t.equal(verify(keysFor(TEXT, '198.18.0.12', 22), KEY_B), 'ok', 'hashed name');
  t.equal(verify(keysFor(TEXT, '198.18.0.13', 2222), KEY_A), 'ok', '[host]:port');
  t.equal(lookupName('198.18.0.13', 2222), '[198.18.0.13]:2222');
});

t.test('a different key is a mismatch, an unlisted host is unknown', async (t) => {
  t.equal(verify(keysFor(TEXT, '198.18.0.11', 22), KEY_B), 'mismatch');
  t.equal(verify(keysFor(TEXT, '198.18.0.13', 22), KEY_A), 'unknown', 'port 22 does not match a :2222 entry');
  t.equal(verify(keysFor(TEXT, '198.18.0.99', 22), KEY_A), 'unknown');
});

t.test('wildcards, negation and @revoked', async (t) => {
  t.equal(verify(keysFor(TEXT, 'n1.lab.example', 22), KEY_R), 'ok');
  t.equal(verify(keysFor(TEXT, 'bad.lab.example', 22), KEY_R), 'unknown', 'negated pattern');
  t.equal(verify(keysFor(TEXT, '198.18.0.14', 22), KEY_B), 'revoked');
  t.equal(verify(keysFor(TEXT, '198.18.0.14', 22), KEY_A), 'ok');
});

t.test('fingerprints, key types and preferred algorithms', async (t) => {
  t.match(fingerprint(KEY_A), /^SHA256:[A-Za-z0-9+/]{43}$/);
  t.equal(keyType(KEY_R), 'ssh-rsa');
  t.same(preferredAlgorithms(keysFor(TEXT, 'n1.lab.example', 22)), ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
  t.equal(preferredAlgorithms([]), undefined);
});
