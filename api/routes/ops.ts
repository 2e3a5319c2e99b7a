import { z } from 'zod';
import type { ApiDeps } from '../deps';
import { defineRoute } from '../openapi/route';
import { opsOverview, SourceUnavailable } from '../ops/overview';
import { problems } from '../problem';

const trigger = z.object({
  name: z.string(),
  value: z.number().optional(),
  replicas: z.number().int().optional(),
  source: z.string().optional().describe('where the value was read: amqp+workers (live) or management'),
  error: z.string().optional(),
});

export const opsOverviewView = z.object({
  at: z.string(),
  stages: z.array(
    z.object({
      stage: z.string(),
      queue: z.string(),
      ready: z.number().int().describe('messages waiting in the queue'),
      unacked: z.number().int().describe('messages delivered to workers and not yet settled (in flight)'),
      consumers: z.number().int(),
      publishRate: z.number().describe('messages published per second'),
      ackRate: z.number().describe('messages acknowledged per second: the stage throughput'),
    }),
  ),
  deadLetters: z.object({
    count: z.number().int(),
    recent: z.array(
      z.object({
        messageId: z.string().nullable(),
        reason: z.string().nullable(),
        source: z.string().nullable(),
      }),
    ),
  }),
  outbox: z.object({ backlog: z.number().int().describe('outbox events not yet published to Kafka') }),
  kafka: z.object({
    lag: z.number().nullable().describe("the dispatcher's consumer lag, as the operator read it"),
  }),
  autoscalers: z
    .array(
      z.object({
        name: z.string(),
        target: z.string(),
        minReplicas: z.number().int(),
        maxReplicas: z.number().int(),
        currentReplicas: z.number().int(),
        desiredReplicas: z.number().int(),
        triggers: z.array(trigger),
      }),
    )
    .nullable()
    .describe('null when the operator does not answer'),
});

/** The operations view of the console: the pipeline's backlog and the autoscalers, for admins only. */
export function opsRoutes(deps: ApiDeps) {
  const overview = opsOverview({
    db: deps.db,
    managementUrl: deps.config.rabbitmq.managementUrl,
    operatorUrl: deps.config.operator.url,
  });
  return [
    defineRoute({
      method: 'get',
      path: '/v1/ops/overview',
      operationId: 'opsOverview',
      summary:
        'Queues, dead letters, outbox backlog, Kafka lag and autoscalers, as their sources report them',
      tag: 'operations',
      auth: ['admin'],
      responses: { 200: { description: 'The pipeline right now', schema: opsOverviewView } },
      errors: [401, 403, 503],
      async handle(ctx) {
        try {
          ctx.body = await overview();
        } catch (err) {
          if (err instanceof SourceUnavailable) throw problems.dependencyUnavailable(err.message);
          throw err;
        }
      },
    }),
  ];
}
