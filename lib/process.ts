import type { Registry } from 'prom-client';
import { ConfigError, loadConfig, type Config } from './config';
import { createLogger, type Logger } from './telemetry/logger';
import { createRegistry } from './telemetry/metrics';
import { startOpsServer, type ReadinessCheck } from './telemetry/ops-server';
import { onShutdown, type ShutdownStep } from './shutdown';

/** What a long-running role gets from the plumbing. */
export interface ProcessContext {
  config: Config;
  logger: Logger;
  registry: Registry;
}

/** What a role hands back: its readiness checks and its shutdown steps, in order. */
export interface RunningRole {
  readiness: Record<string, ReadinessCheck>;
  shutdown: ShutdownStep[];
  /** Roles that serve HTTP themselves (the API) mount /metrics and probes on their own server. */
  servesOwnProbes?: boolean;
  /** Extra read-only JSON endpoints on the ops server. */
  routes?: Record<string, () => unknown>;
}

/** Parses config or exits 2 with a message naming each bad variable. */
export function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`orderflow: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

/**
 * Runs one role as a process: config, logger, metrics registry, the ops server (unless the role
 * serves its own probes), and a graceful stop on SIGTERM/SIGINT: drain readiness, the role's own steps,
 * then the ops server.
 */
export async function runRole(
  role: string,
  start: (ctx: ProcessContext) => Promise<RunningRole>,
): Promise<void> {
  const config = configOrExit();
  const logger = createLogger({ role, level: config.logLevel });
  const registry = createRegistry(role);
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection'));
  try {
    const running = await start({ config, logger, registry });
    const ops = running.servesOwnProbes
      ? undefined
      : await startOpsServer({
          host: config.http.host,
          port: config.http.port,
          registry,
          readiness: running.readiness,
          routes: running.routes,
        });
    onShutdown(
      logger,
      [
        { name: 'drain readiness', run: () => ops?.drain() },
        ...running.shutdown,
        { name: 'ops server', run: () => ops?.close() },
      ],
      { timeoutMs: config.shutdownTimeoutMs },
    );
    if (config.supervisorPid !== undefined) stopWhenOrphaned(config.supervisorPid, logger);
    logger.info({ port: ops?.port ?? config.http.port }, `${role} started`);
  } catch (err) {
    logger.fatal({ err }, `${role} failed to start`);
    process.exit(1);
  }
}

/**
 * Under `orderflow up` every role runs in a session of its own, so nothing stops it when the
 * supervisor dies without stopping its children (kill -9, a crash): it would run on, orphaned, holding
 * its port and its connections. Once a second it checks that its parent is still the supervisor, and
 * stops as on SIGTERM, finishing its in-flight work, when it is not.
 */
function stopWhenOrphaned(supervisorPid: number, logger: Logger): void {
  const timer = setInterval(() => {
    if (process.ppid === supervisorPid) return;
    clearInterval(timer);
    logger.warn({ supervisorPid, parentPid: process.ppid }, 'the supervisor is gone; stopping');
    process.kill(process.pid, 'SIGTERM');
  }, 1000);
  timer.unref();
}
