/**
 * JSON written in pieces: a results document of 74 MB as one string costs the string, its UTF-8
 * Buffer and JSON.stringify's own growth at once (issue 19: most of the controller's peak). Here
 * only the first `depth` levels are walked; each value below them is stringified on its own, so
 * the largest piece in memory is one instance, whatever the run. The output is byte for byte what
 * JSON.stringify(value, null, indent) would print.
 */

/** The pieces of JSON.stringify(value, null, indent), walking `depth` levels of objects and arrays. */
export function* jsonPieces(value: unknown, depth: number, indent = 0, level = 0): Generator<string> {
  const v = toJsonValue(value);
  if (depth <= 0 || v === null || typeof v !== 'object') {
    yield reindent(JSON.stringify(v, null, indent), indent, level);
    return;
  }
  const isArray = Array.isArray(v);
  const entries: [string, unknown][] = isArray ? v.map((x, i) => [String(i), x]) : Object.entries(v).filter(([, x]) => toJsonValue(x) !== undefined);
  const [open, close] = isArray ? ['[', ']'] : ['{', '}'];
  if (entries.length === 0) {
    yield open + close;
    return;
  }
  const pad = indent ? '\n' + ' '.repeat(indent * (level + 1)) : '';
  yield open;
  for (let i = 0; i < entries.length; i++) {
    const [key, x] = entries[i];
    yield (i ? ',' : '') + pad + (isArray ? '' : JSON.stringify(key) + (indent ? ': ' : ':'));
    // In an array, what JSON.stringify drops from an object (undefined, a function) is null.
    yield* jsonPieces(isArray && toJsonValue(x) === undefined ? null : x, depth - 1, indent, level + 1);
  }
  yield (indent ? '\n' + ' '.repeat(indent * level) : '') + close;
}

/** The same, and the newline that ends a file. */
export function* jsonFilePieces(value: unknown, depth: number, indent = 0): Generator<string> {
  yield* jsonPieces(value, depth, indent);
  yield '\n';
}

/** What JSON.stringify would see: toJSON() applied, functions and symbols undefined. */
function toJsonValue(x: unknown): unknown {
  if (x && typeof (x as { toJSON?: unknown }).toJSON === 'function') return (x as { toJSON(): unknown }).toJSON();
  if (typeof x === 'function' || typeof x === 'symbol') return undefined;
  return x;
}

/** A nested value printed alone starts at column 0: its inner lines move to where it sits. */
function reindent(text: string, indent: number, level: number): string {
  return indent && level ? text.replaceAll('\n', '\n' + ' '.repeat(indent * level)) : text;
}
