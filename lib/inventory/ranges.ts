/**
 * Host ranges in the pdsh/Slurm style, so that a 128-host cluster is one [[hosts]] table:
 * name = "node[001-128]", address = "10.0.1.[1-128]", expanded in step. A field without a range
 * is the same for every host of the table; fields with ranges must have equal lengths.
 */

/** "[001-128]" or "[1-4,7,9-10]": one bracket group of numbers and ranges. */
const GROUP = /\[(\d+(?:-\d+)?(?:,\d+(?:-\d+)?)*)\]/;

/** The values a string stands for: itself, or one per number of its bracket group. */
export function expandRange(text: string): string[] | string {
  const m = GROUP.exec(text);
  if (!m) return [text];
  if (GROUP.test(text.slice(m.index + m[0].length))) return `"${text}" has more than one [a-b] range; write one per value`;
  const out: string[] = [];
  for (const part of m[1]!.split(',')) {
    const [a, b = a] = part.split('-') as [string, string?];
    const lo = Number(a);
    const hi = Number(b);
    if (hi < lo) return `"${text}": the range ${part} is inverted; write the lower number first`;
    if (hi - lo >= 100_000) return `"${text}": the range ${part} is too long`;
    // Zero-padded when written so ("001"): every number gets the first one's width.
    const width = a.length > 1 && a.startsWith('0') ? a.length : 0;
    for (let n = lo; n <= hi; n++) out.push(text.slice(0, m.index) + String(n).padStart(width, '0') + text.slice(m.index + m[0].length));
  }
  return out;
}

type RawHostTable = Record<string, unknown> & { planes?: Record<string, unknown> };

/** The ranged fields of a [[hosts]] table: top-level strings and the planes' addresses. */
const RANGED = ['name', 'address', 'ssh_host'];

/**
 * Every [[hosts]] table expanded into one table per host. Problems name the table and field.
 * Tables without a range come back as they were (the same objects); `origin` says which table
 * each host came from.
 */
export function expandHosts(hosts: unknown): { hosts: unknown; problems: string[]; origin: number[] } {
  const origin: number[] = [];
  if (!Array.isArray(hosts)) return { hosts, problems: [], origin };
  const problems: string[] = [];
  const out: unknown[] = [];
  hosts.forEach((raw, i) => {
    if (typeof raw !== 'object' || raw === null) return void (out.push(raw), origin.push(i));
    const table = raw as RawHostTable;
    const fields: { set: (t: RawHostTable, v: string) => void; values: string[]; where: string }[] = [];
    const add = (where: string, value: unknown, set: (t: RawHostTable, v: string) => void) => {
      if (typeof value !== 'string') return;
      const values = expandRange(value);
      if (typeof values === 'string') problems.push(`hosts[${i}].${where}: ${values}`);
      else if (values.length > 1) fields.push({ set, values, where });
    };
    for (const k of RANGED) add(k, table[k], (t, v) => (t[k] = v));
    for (const [plane, v] of Object.entries(table.planes ?? {})) add(`planes.${plane}`, v, (t, x) => (t.planes = { ...t.planes, [plane]: x }));
    if (fields.length === 0) return void (out.push(raw), origin.push(i));
    const n = fields[0]!.values.length;
    const odd = fields.find((f) => f.values.length !== n);
    if (odd) {
      problems.push(`hosts[${i}].${odd.where}: its range gives ${odd.values.length} values but ${fields[0]!.where}'s gives ${n}; ranges of one table expand in step and need equal lengths`);
      return;
    }
    if (!fields.some((f) => f.where === 'name')) {
      const given = typeof table.name === 'string' ? `"${table.name}" needs a range too` : 'is missing';
      problems.push(`hosts[${i}].name ${given}: ${fields[0]!.where} has a range, so every host of the table needs its own name (e.g. name = "node[1-${n}]")`);
      return;
    }
    for (let k = 0; k < n; k++) {
      const copy: RawHostTable = { ...table };
      for (const f of fields) f.set(copy, f.values[k]!);
      out.push(copy);
      origin.push(i);
    }
  });
  return { hosts: out, problems, origin };
}
