/**
 * Host names as people write them on a command line: globs (`*`, `?`, classes `[34]`, `[a-c]`,
 * `[!a]`) and the inventory's own pdsh ranges (`node[001-128]`, `h[1-4,7]`). A bracket group of
 * numbers with a `-` or a `,` is a range (zero-padded as written, like the inventory's); any other
 * is a class of characters, as in a shell. `h[3-4]` means the same either way.
 */
import { expandRange } from './ranges.js';

const NUMERIC_RANGE = /^\d+(?:-\d+)?(?:,\d+(?:-\d+)?)*$/;

/** A matcher for one pattern, or a message saying what is wrong with it. */
export function hostPattern(pattern: string): ((name: string) => boolean) | string {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) return `"${pattern}": a [ without its ]`;
      const group = pattern.slice(i + 1, end);
      const part = groupRegex(group, pattern);
      if (part.startsWith('"')) return part;
      re += part;
      i = end;
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  const compiled = new RegExp(`^${re}$`);
  return (name) => compiled.test(name);
}

function groupRegex(group: string, pattern: string): string {
  if (group === '') return `"${pattern}": an empty [] matches nothing`;
  if (NUMERIC_RANGE.test(group) && /[-,]/.test(group)) {
    const values = expandRange(`[${group}]`);
    if (typeof values === 'string') return `"${pattern}": ${values.replace(/^"\[[^"]*\]"(: )?/, '')}`;
    return `(?:${values.join('|')})`;
  }
  const negate = group[0] === '!' || group[0] === '^';
  const body = (negate ? group.slice(1) : group).replace(/[\\\]^]/g, '\\$&');
  if (body === '') return `"${pattern}": [${group}] has nothing to match`;
  return `[${negate ? '^' : ''}${body}]`;
}
