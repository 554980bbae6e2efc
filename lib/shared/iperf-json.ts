/** Reading iperf3's JSON output: the daemon parses it, the controller reads fields of it. */

/**
 * iperf3 3.16 could print its JSON document twice; take the first complete top-level object.
 * Returns null when there is none.
 */
export function parseFirstJson(text: string): unknown {
  const start = text.indexOf('{');
  if (start === -1) return null;
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{') depth++;
    else if (ch === '}' && --depth === 0) {
      try {
        return JSON.parse(text.slice(start, i + 1));
      } catch {
        return null;
      }
    }
  }
  return null;
}

/** iperf3's own error text, which is more reliable than its exit code across versions. */
export function iperfError(doc: unknown): string | null {
  const e = (doc as { error?: unknown } | null)?.error;
  return typeof e === 'string' && e ? e : null;
}
