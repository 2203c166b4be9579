import { ExitCode } from '../errors.js';
import type { Logger } from '../log.js';
import { killProcessGroup } from '../processGroup.js';

/**
 * First Ctrl-C (or SIGTERM): stop gracefully (hang up, unregister, flush
 * reports); the run's verdict is then "interrupted", exit 130. Second: kill
 * the browsers at once and exit 130 without reports, after `onForcedExit`
 * (which must be synchronous: it leaves junit.xml saying so).
 */
export function installStopHandlers(
  logger: Logger,
  options: { onForcedExit?: (signalName: NodeJS.Signals) => void } = {},
): {
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
    try {
      options.onForcedExit?.(signalName);
    } finally {
      process.exit(ExitCode.interrupted);
    }
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
