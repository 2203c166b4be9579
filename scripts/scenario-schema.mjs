// Writes schema/scenario.schema.json from the built scenario shapes (npm run schema builds first).
// src/cli/scenarioSchema.test.ts fails while the committed file differs from what this writes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SCENARIO_SCHEMA_PATH, scenarioSchemaText } from '../dist/cli/scenarioSchema.js';

const file = join(dirname(fileURLToPath(import.meta.url)), '..', SCENARIO_SCHEMA_PATH);
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, scenarioSchemaText());
console.log(`wrote ${SCENARIO_SCHEMA_PATH}`);
