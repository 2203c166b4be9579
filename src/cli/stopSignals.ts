import type { Logger } from '../log.js';
import { killProcessGroup } from '../processGroup.js';

/**
 * First Ctrl-C (or SIGTERM): stop gracefully (hang up, unregister, flush
 * reports). Second: kill the browsers at once and exit 130.
 */
export function installStopHandlers(logger: Logger): {
  signal: AbortSignal;
  onForcedStop(browserPids: () => number[]): void;
  dispose(): void;
} {
  const controller = new AbortController();
  let pids: () => number[] = () => [];
  const handler = (signalName: NodeJS.Signals) => {
    if (!controller.signal.aborted) {
      logger.warn(`${signalName}: stopping: hanging up calls and writing reports (again to force)`);
      controller.abort();
      return;
    }
    logger.error(`${signalName} again: killing browsers and exiting`);
    for (const pid of pids()) killProcessGroup(pid);
    process.exit(130);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    onForcedStop: (browserPids) => (pids = browserPids),
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
