/** Loading and validating scenario files into the typed Scenario (types.ts), the contract the runner reads. */
export { loadScenario, parseScenario, SCENARIO_HINT, type LoadOptions, type ThresholdCheck } from './loader.js';
export { checkSipUser } from './sipUser.js';
export { parseDurationSeconds } from './durations.js';
export { OPTION_DEFAULTS } from './settings.js';
export type * from './types.js';
