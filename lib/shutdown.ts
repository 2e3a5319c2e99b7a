import type { Logger } from './telemetry/logger';

/** One step of an orderly stop: stop intake first, then finish work, then close connections. */
export interface ShutdownStep {
  name: string;
  run: () => Promise<void> | void;
}

/**
 * Runs the steps in order on SIGTERM or SIGINT (once), bounded by a timeout, then exits:
 * 0 when every step finished, 1 when one failed or the timeout passed.
 */
export function onShutdown(
  logger: Logger,
  steps: ShutdownStep[],
  options: { timeoutMs: number; exit?: (code: number) => void },
): () => Promise<number> {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let running: Promise<number> | undefined;
  const shutdown = () => {
    running ??= (async () => {
      const timer = setTimeout(() => {
        logger.error({ timeoutMs: options.timeoutMs }, 'shutdown timed out');
        exit(1);
      }, options.timeoutMs);
      timer.unref();
      let code = 0;
      for (const step of steps) {
        try {
          await step.run();
          logger.debug({ step: step.name }, 'shutdown step done');
        } catch (err) {
          code = 1;
          logger.error({ err, step: step.name }, 'shutdown step failed');
        }
      }
      clearTimeout(timer);
      logger.info({ code }, 'stopped');
      return code;
    })();
    return running;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'shutting down');
    void shutdown().then(exit);
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  return shutdown;
}
