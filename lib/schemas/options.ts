/**
 * The option table (lib/shared/options.ts) as the JSON schemas and the docs state it: the
 * inventory's [test] and [hosts.test] tables, the results' run.parameters and instance
 * parameters, and the table in docs/measurement.md. `npm run sync-docs` writes them into
 * schemas/ and docs/; test/options-table.test.ts checks they agree.
 */
import { CLIENT_OPTIONS, HOST_OPTIONS, NAME_PATTERN, OPTION_LIST, OPTIONS, SWEEP_KEYS } from '../shared/options.js';
import type { OptionKey, OptionSpec } from '../shared/options.js';
import { THRESHOLD_KEYS } from '../results/verdict/thresholds.js';
import { withBlock } from './blocks.js';

type Schema = Record<string, unknown>;

const SIZE_TEXT = { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?[KMGkmg]?$' };

/** How the inventory (TOML) may write one option. */
function inventoryValue(s: OptionSpec): Schema {
  switch (s.kind) {
    case 'int':
      return { type: 'integer', minimum: s.min, maximum: s.max };
    case 'rate':
    case 'size':
      return { oneOf: [{ type: 'integer', minimum: s.min }, SIZE_TEXT] };
    case 'count':
      return { oneOf: [{ const: 'auto' }, { type: 'integer', minimum: s.min, maximum: s.max }] };
    case 'bool':
      return { type: 'boolean' };
    case 'name':
      return { type: 'string', pattern: NAME_PATTERN.source };
    case 'enum':
      return { enum: [...s.values!] };
    case 'range':
      return { type: 'string', pattern: '^[0-9]{1,5}-[0-9]{1,5}$' };
  }
}

/** How results write one option's value (sizes and rates as numbers). */
function resultValue(s: OptionSpec): Schema {
  switch (s.kind) {
    case 'int':
    case 'size':
      return { type: 'integer', minimum: s.min };
    case 'rate':
      return { type: 'number', minimum: s.min };
    case 'count':
      return { type: 'integer', minimum: s.min };
    case 'bool':
      return { type: 'boolean' };
    case 'name':
      return { type: 'string' };
    case 'enum':
      return { enum: [...s.values!] };
    case 'range':
      return { type: 'array', items: { type: 'integer', minimum: 1, maximum: 65535 }, minItems: 2, maxItems: 2 };
  }
}

const object = (properties: Schema, required: string[] = []): Schema => ({
  type: 'object',
  additionalProperties: false,
  ...(required.length ? { required } : {}),
  properties,
});

const fromKeys = (keys: readonly OptionKey[], f: (s: OptionSpec) => Schema) => Object.fromEntries(keys.map((k) => [k, f(OPTIONS[k])]));

/** The inventory's [test] table: the options, and the campaign's profiles and repetitions. */
export function inventoryTestSchema(): Schema {
  return object({
    ...fromKeys(OPTION_LIST.map(([k]) => k), inventoryValue),
    profile: { oneOf: [{ type: 'string' }, { type: 'array', minItems: 1, items: { type: 'string' } }], description: 'the profile(s) to run, one step each (as --profile)' },
    repeat: { type: 'integer', minimum: 1, maximum: 1000, description: 'runs of each step (as --repeat)' },
  });
}

/** [profiles.NAME]: the options of [test] but port_range, and which profile it extends. */
export function inventoryProfilesSchema(): Schema {
  const keys = OPTION_LIST.map(([k]) => k).filter((k) => k !== 'port_range');
  return { type: 'object', additionalProperties: object({ ...fromKeys(keys, inventoryValue), extends: { type: 'string' } }) };
}

/** [sweep]: an option and the values it takes, one step each. */
export function inventorySweepSchema(): Schema {
  return object(fromKeys(SWEEP_KEYS, (s) => ({ type: 'array', minItems: 1, items: inventoryValue(s) })));
}

/** A host's [hosts.test] table. */
export function inventoryTuningSchema(): Schema {
  return object(fromKeys(HOST_OPTIONS, inventoryValue));
}

/** run.parameters in results: every option (null where unset), and what was resolved. */
export function parametersSchema(): Schema {
  const props: Schema = {};
  for (const [k, s] of OPTION_LIST) {
    const v = resultValue(s);
    props[k] = s.default !== undefined || s.kind === 'bool' ? v : nullable(v);
  }
  props.processes_requested = { oneOf: [{ const: 'auto' }, { type: 'integer', minimum: 1 }] };
  props.transport = { enum: ['ssh', 'local'] };
  props.rounds = { $ref: '#/definitions/count' };
  props.planes = { type: 'array', minItems: 1, items: { type: 'string' }, description: 'the planes measured: "default" (every host\'s address) or the --plane names' };
  props.thresholds = object(Object.fromEntries(THRESHOLD_KEYS.map((k) => [k, { type: ['number', 'null'], minimum: 0 }])), THRESHOLD_KEYS);
  props.retest = { type: 'boolean', description: 'failing pairs were measured again alone (--retest)' };
  const required = Object.keys(props);
  // Added after results.json v1 went out: absent in older files, which stay valid.
  props.servers_per_round = { type: 'boolean', description: 'servers were started before each round, not all at the start: all at once would not fit a host\'s port_range or max_processes' };
  return object(props, required);
}

/** An instance's parameters: the options its client ran with. */
export function instanceParametersSchema(): Schema {
  const required = CLIENT_OPTIONS.filter((k) => (OPTIONS[k] as OptionSpec).default !== undefined && OPTIONS[k].kind !== 'bool');
  return object(fromKeys(CLIENT_OPTIONS, resultValue), required);
}

function nullable(v: Schema): Schema {
  return 'type' in v ? { ...v, type: [v.type, 'null'] } : { oneOf: [{ type: 'null' }, v] };
}

export const TABLE_START = '<!-- options:start (npm run sync-docs writes this table from lib/shared/options.ts) -->';
export const TABLE_END = '<!-- options:end -->';

/** The options as docs/measurement.md lists them. */
export function optionsTable(): string {
  const rows = OPTION_LIST.map(([k, s]) => {
    const cli = s.cli ? `\`--${s.cli.name}${s.cli.alias ? `, -${s.cli.alias}` : ''}\`` : '(inventory only)';
    const iperf = s.flag ? `\`${s.flag}\`${s.since ? ` (${s.since}+)` : ''}` : '—';
    // No default of meshperf's: iperf3's own where iperf3 takes it; else the meaning says.
    const def = s.default !== undefined ? `\`${JSON.stringify(s.default)}\`` : s.kind === 'bool' ? 'off' : s.flag ? "iperf3's" : '—';
    return `| \`${k}\` | ${cli} | ${iperf} | ${s.perHost ? 'host' : ''} | ${def} | ${s.help} |`;
  });
  return [TABLE_START, '| option | flag | iperf3 | host | default | meaning |', '| --- | --- | --- | --- | --- | --- |', ...rows, TABLE_END].join('\n');
}

/** `text` (docs/measurement.md) with its options table replaced by the current one. */
export function withOptionsTable(text: string): string {
  return withBlock(text, TABLE_START, TABLE_END, optionsTable());
}
