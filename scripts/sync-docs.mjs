// Write what follows from the code into the docs and schemas: from ERROR_CODES the error table of
// docs/results.md and the error.code enum of the results schema; from the option table the
// inventory schema's [test] and [hosts.test], the results schema's parameters, and the options
// table of docs/measurement.md. Run after `npm run build`; the tests fail when they disagree.
import { readFileSync, writeFileSync } from 'node:fs';
import { errorCodeSchema, withErrorTable } from '../dist/schemas/errors.js';
import { instanceParametersSchema, inventoryProfilesSchema, inventorySweepSchema, inventoryTestSchema, inventoryTuningSchema, parametersSchema, withOptionsTable } from '../dist/schemas/options.js';

const edit = (file, f) => writeFileSync(file, f(readFileSync(file, 'utf8')));
const editJson = (file, f) => edit(file, (text) => JSON.stringify(f(JSON.parse(text)), null, 2) + '\n');

edit('docs/results.md', withErrorTable);
edit('docs/measurement.md', withOptionsTable);
editJson('schemas/results.schema.json', (s) => {
  s.definitions.error.oneOf[1].properties.code = errorCodeSchema();
  s.properties.run.properties.parameters = parametersSchema();
  s.definitions.instance.properties.parameters = instanceParametersSchema();
  return s;
});
editJson('schemas/inventory.schema.json', (s) => {
  s.properties.test = inventoryTestSchema();
  s.properties.profiles = inventoryProfilesSchema();
  s.properties.sweep = inventorySweepSchema();
  s.definitions.tuning = inventoryTuningSchema();
  return s;
});
console.log('wrote docs/results.md, docs/measurement.md, schemas/results.schema.json, schemas/inventory.schema.json');
