/**
 * The test flags of the meshperf command, made from the option table (lib/shared/options.ts), and
 * their checks. Numbers are read as strings, so that an error can quote exactly what was typed.
 * Each flag overrides the inventory's [test] value.
 */
import type { Argv, Options } from 'yargs';
import { checkValue, OPTION_LIST, OptionKey, optionConflicts, readValue, UsageError } from '../index.js';
import type { OptionSpec, TestParams, Thresholds } from '../index.js';
import { readThreshold, THRESHOLDS, THRESHOLD_KEYS } from '../index.js';

export { UsageError };

export function positiveInt(name: string, max: number, min = 1) {
  return (v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = /^\d+$/.test(String(v).trim()) ? Number(v) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
    return n;
  };
}

/** Options that have a CLI flag. */
const FLAGGED = OPTION_LIST.filter((e): e is [OptionKey, OptionSpec & { cli: NonNullable<OptionSpec['cli']> }] => e[1].cli !== undefined);

/** yargs' view of one flag: switches are booleans, choices are choices, everything else text. */
function yargsOption(s: OptionSpec & { cli: NonNullable<OptionSpec['cli']> }): Options {
  const o: Options = { describe: s.help };
  if (s.cli.alias) o.alias = s.cli.alias;
  if (s.kind === 'bool' || s.cli.bool) o.type = 'boolean';
  else if (s.kind === 'enum') o.choices = s.values as string[];
  else o.type = 'string';
  return o;
}

export const testFlags = (y: Argv) => FLAGGED.reduce((acc, [, s]) => acc.option(s.cli.name, yargsOption(s)), y);

/** What yargs parsed: flag names in camelCase (no-delay -> noDelay). */
export type TestFlagArgs = Record<string, unknown>;

const camel = (name: string) => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** The [test] overrides the flags ask for; absent where a flag was not given. */
export function testOverrides(a: TestFlagArgs): Partial<TestParams> {
  const out: Record<string, unknown> = {};
  for (const [key, s] of FLAGGED) {
    const given = a[camel(s.cli.name)];
    if (given === undefined) continue;
    out[key] = s.cli.bool ? (given ? s.flagValue : s.default) : fromText(key, s, given);
  }
  const conflicts = optionConflicts(out);
  if (conflicts.length) throw new UsageError(conflicts.map((c) => c.replace(/\b(reverse|bidir)\b/g, '--$1')).join('; '));
  return out as Partial<TestParams>;
}

/** One flag's text read into the option's value, or a usage error quoting what was typed. */
function fromText(key: OptionKey, s: OptionSpec & { cli: { name: string } }, given: unknown): unknown {
  if (typeof given !== 'string') return given;
  const text = given.trim();
  let value: unknown = text;
  if (s.kind === 'int' || (s.kind === 'count' && text !== 'auto')) value = /^\d+$/.test(text) ? Number(text) : NaN;
  else if (s.kind === 'rate' || s.kind === 'size') value = readValue(key, text);
  const problem = Number.isNaN(value) && (s.kind === 'rate' || s.kind === 'size') ? 'must be a number, optionally with K, M or G' : checkValue(key, value);
  if (!problem) return value;
  const example = s.kind === 'rate' ? ' (e.g. 500M)' : s.kind === 'size' ? ' (e.g. 256K)' : '';
  throw new UsageError(`--${s.cli.name} ${problem}${example}, got ${JSON.stringify(given)}`);
}

/** The threshold flags, made from the threshold table (lib/verdict/thresholds.ts). */
export const thresholdFlags = (y: Argv) =>
  THRESHOLD_KEYS.reduce((acc, k) => acc.option(THRESHOLDS[k].flag, { type: 'string', describe: THRESHOLDS[k].help, group: 'Thresholds:' }), y);

/** The thresholds the flags set, over the inventory's; a usage error quoting what was typed. */
export function thresholdOverrides(a: TestFlagArgs): Partial<Thresholds> {
  const out: Partial<Thresholds> = {};
  for (const k of THRESHOLD_KEYS) {
    const given = a[camel(THRESHOLDS[k].flag)];
    if (given === undefined) continue;
    const r = readThreshold(k, given);
    if ('problem' in r) throw new UsageError(`--${THRESHOLDS[k].flag} ${r.problem}, got ${JSON.stringify(given)}`);
    out[k] = r.value;
  }
  return out;
}
