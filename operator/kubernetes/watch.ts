import type { Logger } from '../../lib/telemetry/logger';
import { backoffDelay } from '../../lib/backoff';
import { apiStatus, k8s, type KubeConfig } from '../../lib/adapters/kubernetes/client';
import { GROUP, PLURAL, VERSION, type KubernetesApis } from './resources';

/** The part of a custom object the watch cares about. */
export interface CustomObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace: string; uid?: string; generation?: number; resourceVersion?: string };
  spec?: unknown;
  status?: unknown;
}

export interface WatchOptions {
  kc: KubeConfig;
  apis: KubernetesApis;
  /** Namespace to watch; undefined watches every namespace. */
  namespace: string | undefined;
  /** An object was listed, added or changed. */
  onApply(object: CustomObject): void;
  /** An object was deleted, or vanished between two lists. */
  onDelete(ref: { namespace: string; name: string }): void;
  logger: Logger;
  /** Reconnect backoff after a broken watch: first delay and ceiling in ms (default 500 / 30 000). */
  backoffMs?: { initial: number; max: number };
  /** The server ends each watch after about this long, and we resume from the last resourceVersion (default 300). */
  timeoutSeconds?: number;
}

class Gone extends Error {}

/**
 * List-then-watch of WorkerAutoscalers, the way informers do it: list to get the state and a
 * resourceVersion, watch from that version, resume from the last version seen after a dropped
 * connection, and list again when the server says the version is too old (410 Gone). Returns a stop
 * function.
 */
export function watchAutoscalers(options: WatchOptions): { stop: () => void } {
  const backoff = options.backoffMs ?? { initial: 500, max: 30_000 };
  const watcher = new k8s.Watch(options.kc);
  const path = options.namespace
    ? `/apis/${GROUP}/${VERSION}/namespaces/${options.namespace}/${PLURAL}`
    : `/apis/${GROUP}/${VERSION}/${PLURAL}`;
  const known = new Map<string, { namespace: string; name: string }>();
  let resourceVersion: string | undefined;
  let stopped = false;
  let abort: AbortController | undefined;
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;

  const key = (o: { namespace: string; name: string }) => `${o.namespace}/${o.name}`;

  const list = async () => {
    const result = (await (options.namespace
      ? options.apis.custom.listNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace: options.namespace,
          plural: PLURAL,
        })
      : options.apis.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL }))) as {
      items: CustomObject[];
      metadata: { resourceVersion: string };
    };
    const seen = new Set<string>();
    for (const item of result.items) {
      seen.add(key(item.metadata));
      known.set(key(item.metadata), item.metadata);
      options.onApply(item);
    }
    for (const [k, ref] of known) {
      if (seen.has(k)) continue;
      known.delete(k);
      options.onDelete(ref);
    }
    resourceVersion = result.metadata.resourceVersion;
  };

  const watchOnce = () =>
    new Promise<void>((resolve, reject) => {
      const onEvent = (phase: string, object: CustomObject & { code?: number; message?: string }) => {
        if (phase === 'ERROR') {
          abort?.abort();
          reject(object.code === 410 ? new Gone(object.message) : new Error(object.message ?? 'watch error'));
          return;
        }
        failures = 0;
        resourceVersion = object.metadata.resourceVersion ?? resourceVersion;
        if (phase === 'BOOKMARK') return;
        if (phase === 'DELETED') {
          known.delete(key(object.metadata));
          options.onDelete(object.metadata);
        } else {
          known.set(key(object.metadata), object.metadata);
          options.onApply(object);
        }
      };
      watcher
        .watch(
          path,
          {
            resourceVersion,
            allowWatchBookmarks: true,
            timeoutSeconds: options.timeoutSeconds ?? 300,
          },
          onEvent,
          (err: unknown) => (err ? reject(err) : resolve()),
        )
        .then((controller) => {
          abort = controller;
          if (stopped) controller.abort();
        }, reject);
    });

  const run = async () => {
    while (!stopped) {
      try {
        if (resourceVersion === undefined) await list();
        await watchOnce();
      } catch (err) {
        if (stopped) return;
        if (err instanceof Gone || apiStatus(err) === 410) {
          options.logger.info('watch resourceVersion expired; listing again');
          resourceVersion = undefined;
          continue;
        }
        failures += 1;
        const delay = backoffDelay(failures, backoff.initial, backoff.max);
        options.logger.warn({ err, retryInMs: delay }, 'WorkerAutoscaler watch failed');
        await new Promise<void>((resolve) => {
          timer = setTimeout(resolve, delay);
        });
      }
    }
  };
  void run();
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
      abort?.abort();
    },
  };
}
