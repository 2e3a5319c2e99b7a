import { DEAD_LETTER_REASON_HEADER, DEAD_LETTER_SOURCE_HEADER } from '../../lib/adapters/rabbitmq/client';
import { managementApi, managementQueue } from '../../lib/adapters/rabbitmq/management';
import { STAGES } from '../../lib/domain/pipeline';
import { DEAD_LETTER_QUEUE, stageQueue } from '../../lib/messaging';
import { one, type Queryable } from '../../lib/store/db';
import type { AutoscalerView } from '../../operator/runner';
import type { AutoscalerSummary, OpsOverview } from './types';

export class SourceUnavailable extends Error {}

interface QueueStats {
  messages?: number;
  messages_ready?: number;
  messages_unacknowledged?: number;
  consumers?: number;
  message_stats?: { publish_details?: { rate?: number }; ack_details?: { rate?: number } };
}

async function queueStats(managementUrl: string, queue: string): Promise<QueueStats> {
  const res = await managementQueue(
    managementUrl,
    queue,
  )(
    '?columns=messages,messages_ready,messages_unacknowledged,consumers,message_stats.publish_details,message_stats.ack_details',
  ).catch((err: unknown) => {
    throw new SourceUnavailable(
      `RabbitMQ management API: ${err instanceof Error ? err.message : String(err)}`,
    );
  });
  // Not declared yet (no worker has started since the broker was set up): nothing waits in it.
  if (res.status === 404) return {};
  if (!res.ok) throw new SourceUnavailable(`RabbitMQ management API answered ${res.status} for ${queue}`);
  return (await res.json()) as QueueStats;
}

const rate = (r: number | undefined) => Math.round((r ?? 0) * 10) / 10;

/**
 * The newest dead letters with their reasons, read with the management API's "get messages" and
 * requeued at once (the queue keeps them; RabbitMQ 3.x quorum queues have no delivery limit unless
 * one is set, and orderflow.dead sets none). Read at most every `everyMs`, so a console left open
 * does not cycle the queue.
 */
function deadLetterPeek(managementUrl: string, everyMs = 10_000) {
  let last: { at: number; recent: OpsOverview['deadLetters']['recent'] } | undefined;
  const api = managementApi(managementUrl);
  return async (count: number): Promise<OpsOverview['deadLetters']['recent']> => {
    if (count === 0) return [];
    if (last && Date.now() - last.at < everyMs) return last.recent;
    const res = await api(`/api/queues/%2F/${encodeURIComponent(DEAD_LETTER_QUEUE)}/get`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ count: 10, ackmode: 'ack_requeue_true', encoding: 'auto', truncate: 2000 }),
    });
    if (!res.ok) return last?.recent ?? [];
    const messages = (await res.json()) as {
      properties?: { message_id?: string; headers?: Record<string, unknown> };
    }[];
    const text = (v: unknown) => (typeof v === 'string' ? v : null);
    const recent = messages.map((m) => ({
      messageId: text(m.properties?.message_id),
      reason: text(m.properties?.headers?.[DEAD_LETTER_REASON_HEADER]),
      source: text(m.properties?.headers?.[DEAD_LETTER_SOURCE_HEADER]),
    }));
    last = { at: Date.now(), recent };
    return recent;
  };
}

/** The operator's autoscalers (GET /v1/autoscalers), or null when it does not answer. */
async function autoscalers(operatorUrl: string): Promise<AutoscalerSummary[] | null> {
  try {
    const res = await fetch(`${operatorUrl.replace(/\/$/, '')}/v1/autoscalers`, {
      signal: AbortSignal.timeout(2000),
    });
    if (!res.ok) return null;
    const body = (await res.json()) as { leader?: boolean; autoscalers?: AutoscalerView[] };
    // A standby operator does not measure; its list says nothing about the load.
    if (body.leader === false) return null;
    return (body.autoscalers ?? []).map((a) => ({
      name: a.name,
      target: a.target,
      minReplicas: a.minReplicas,
      maxReplicas: a.maxReplicas,
      currentReplicas: a.status?.currentReplicas ?? 0,
      desiredReplicas: a.status?.desiredReplicas ?? 0,
      // The trigger's type is in its name (`kafka:`, `rabbitmq:`).
      triggers: (a.status?.triggers ?? []).map(({ type: _type, ...trigger }) => trigger),
    }));
  } catch {
    return null;
  }
}

export function opsOverview(deps: { db: Queryable; managementUrl: string; operatorUrl: string }) {
  const peek = deadLetterPeek(deps.managementUrl);
  return async (): Promise<OpsOverview> => {
    const [stages, dead, outbox, scalers] = await Promise.all([
      Promise.all(STAGES.map((stage) => queueStats(deps.managementUrl, stageQueue(stage)))),
      queueStats(deps.managementUrl, DEAD_LETTER_QUEUE),
      one<{ n: number }>(deps.db, `SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL`),
      autoscalers(deps.operatorUrl),
    ]);
    const lag = scalers
      ?.flatMap((a) => a.triggers)
      .find((t) => t.name.startsWith('kafka:') && t.value !== undefined)?.value;
    return {
      at: new Date().toISOString(),
      stages: STAGES.map((stage, i) => ({
        stage,
        queue: stageQueue(stage),
        ready: stages[i]!.messages_ready ?? 0,
        unacked: stages[i]!.messages_unacknowledged ?? 0,
        consumers: stages[i]!.consumers ?? 0,
        publishRate: rate(stages[i]!.message_stats?.publish_details?.rate),
        ackRate: rate(stages[i]!.message_stats?.ack_details?.rate),
      })),
      deadLetters: { count: dead.messages ?? 0, recent: await peek(dead.messages ?? 0) },
      outbox: { backlog: outbox?.n ?? 0 },
      kafka: { lag: lag ?? null },
      autoscalers: scalers,
    };
  };
}
