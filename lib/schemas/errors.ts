/**
 * The error vocabulary as people read it (the table in docs/results.md) and as the results
 * schema checks it (its enum): both are written from ERROR_CODES by `npm run sync-docs`.
 */
import { ERROR_CODES } from '../shared/errors.js';
import { withBlock } from './blocks.js';

export const TABLE_START = '<!-- error-codes:start (npm run sync-docs writes this table from lib/shared/errors.ts) -->';
export const TABLE_END = '<!-- error-codes:end -->';

export function errorTable(): string {
  const rows = Object.entries(ERROR_CODES).map(([code, e]) => `| \`${code}\` | ${e.where.join(', ')} | ${e.meaning} | ${e.fix} |`);
  return [TABLE_START, '| code | where | meaning | what to do |', '| --- | --- | --- | --- |', ...rows, TABLE_END].join('\n');
}

/** `text` (docs/results.md) with its error table replaced by the current one. */
export function withErrorTable(text: string): string {
  return withBlock(text, TABLE_START, TABLE_END, errorTable());
}

/** The schema's error.code definition: exactly the vocabulary. */
export function errorCodeSchema(): { enum: string[] } {
  return { enum: Object.keys(ERROR_CODES) };
}
