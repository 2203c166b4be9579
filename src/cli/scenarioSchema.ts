/**
 * The scenario JSON Schema as published in schema/scenario.schema.json: the
 * scenario format (scenario/jsonSchema.ts) with the threshold metrics
 * (verdict/metrics.ts), which only a room above both may put together.
 * `npm run schema` writes it; a unit test fails when the file is stale.
 */
import type { JsonSchema } from '../scenario/fields.js';
import { scenarioJsonSchema } from '../scenario/jsonSchema.js';
import { THRESHOLD_METRIC_NAMES, THRESHOLD_METRICS } from '../verdict/metrics.js';

/** Where the schema is committed, from the repository root (and in the npm package). */
export const SCENARIO_SCHEMA_PATH = 'schema/scenario.schema.json';

export function scenarioSchema(): JsonSchema {
  return scenarioJsonSchema(
    THRESHOLD_METRIC_NAMES.map((name) => {
      const metric: { measures: string; tags?: readonly string[] } = THRESHOLD_METRICS[name];
      return { name, measures: metric.measures, ...(metric.tags ? { tags: metric.tags } : {}) };
    }),
  );
}

/** The file's text: two-space JSON and a final newline, so regenerating it changes nothing when nothing changed. */
export function scenarioSchemaText(): string {
  return `${JSON.stringify(scenarioSchema(), null, 2)}\n`;
}
