import { watch as watchFiles, type FSWatcher } from 'node:fs';
import type { ProcessContext, RunningRole } from '../../lib/process';
import { autoscalerRuntime } from '../runtime';
import type { WorkerAutoscaler } from '../spec';
import { loadAutoscalers } from './load';
import { saturatedMachine } from './machine-cpu';
import { supervisorTarget } from './supervisor-target';

/**
 * `orderflow operator --local <dir>`: the WorkerAutoscalers of a folder, scaling the roles of
 * `orderflow up` through its supervisor. Editing a file reloads the folder; a file that does not
 * parse is reported and the autoscalers keep running as they were.
 */
export function localOperator(path: string, supervisorUrl: string) {
  return async (ctx: ProcessContext): Promise<RunningRole> => {
    const { logger } = ctx;
    // One reading of the machine's CPU for every autoscaler: they share the machine.
    const growthHeld = saturatedMachine();
    const { metrics, runner, closeBrokers } = autoscalerRuntime(ctx, {
      target: (_namespace, spec) => ({
        ...supervisorTarget(supervisorUrl, spec.scaleTargetRef.name),
        growthHeld,
      }),
    });
    const apply = (autoscalers: WorkerAutoscaler[]) => {
      const keep = new Set<string>();
      for (const wa of autoscalers) {
        const namespace = wa.metadata.namespace ?? 'default';
        keep.add(`${namespace}/${wa.metadata.name}`);
        runner.upsert({ namespace, name: wa.metadata.name, spec: wa.spec });
      }
      for (const view of runner.list()) if (!keep.has(`${view.namespace}/${view.name}`)) runner.remove(view);
    };
    apply(loadAutoscalers(path));
    metrics.leader.set(1);
    logger.info({ path, supervisor: supervisorUrl, autoscalers: runner.keys() }, 'operator in local mode');

    let reload: NodeJS.Timeout | undefined;
    let files: FSWatcher | undefined;
    try {
      files = watchFiles(path, () => {
        clearTimeout(reload);
        reload = setTimeout(() => {
          try {
            apply(loadAutoscalers(path));
            logger.info({ autoscalers: runner.keys() }, 'autoscalers reloaded');
          } catch (err) {
            logger.error({ err }, 'autoscalers not reloaded; the running ones stay as they were');
          }
        }, 300);
      });
    } catch (err) {
      logger.warn({ err, path }, 'cannot watch for changes; restart the operator to pick up edits');
    }

    return {
      readiness: {
        supervisor: async () => {
          const res = await fetch(`${supervisorUrl}/v1/roles`, { signal: AbortSignal.timeout(2000) });
          if (!res.ok) throw new Error(`supervisor answered ${res.status}`);
        },
      },
      routes: {
        '/v1/autoscalers': () => ({ mode: 'local', leader: true, autoscalers: runner.list() }),
      },
      shutdown: [
        {
          name: 'autoscalers',
          run: async () => {
            files?.close();
            clearTimeout(reload);
            await runner.stop();
          },
        },
        { name: 'kafka admin and amqp probe', run: closeBrokers },
      ],
    };
  };
}
