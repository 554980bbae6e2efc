// Write what follows from the code into the docs and schemas: the error-code table of
// docs/results.md and the error.code enum of schemas/results.schema.json (from ERROR_CODES).
// Run after `npm run build`; test/errors.test.ts fails when they disagree.
import { readFileSync, writeFileSync } from 'node:fs';
import { errorCodeSchema, withErrorTable } from '../dist/results/error-table.js';

const doc = 'docs/results.md';
writeFileSync(doc, withErrorTable(readFileSync(doc, 'utf8')));
const schemaFile = 'schemas/results.schema.json';
const schema = JSON.parse(readFileSync(schemaFile, 'utf8'));
schema.definitions.error.oneOf[1].properties.code = errorCodeSchema();
writeFileSync(schemaFile, JSON.stringify(schema, null, 2) + '\n');
console.log(`wrote ${doc} and ${schemaFile}`);
