/** Blocks of a Markdown file that code writes: everything between a start and an end marker. */

/** `text` with the block between `start` and `end` (markers included) replaced by `block`. */
export function withBlock(text: string, start: string, end: string, block: string): string {
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a === -1 || b === -1) throw new Error(`no block markers in the text (${start})`);
  return text.slice(0, a) + block + text.slice(b + end.length);
}
