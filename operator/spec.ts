import { z } from 'zod';

/**
 * WorkerAutoscaler (orderflow.io/v1alpha1) spec, parsed once with defaults beside each field. The
 * CRD's OpenAPI schema (k8s/crd-workerautoscaler.yaml) enforces the same rules at the API server;
 * this parser applies them to the YAML files local mode reads.
 */

const nonNegative = z.number().int().min(0);

const kafkaTrigger = z.strictObject({
  type: z.literal('kafka'),
  metadata: z.strictObject({
    topic: z.string().min(1),
    consumerGroup: z.string().min(1),
    /** Lag one replica is expected to keep up with. */
    lagPerReplica: z.number().int().min(1),
    /** At or below this lag the trigger asks for no replica (default 0). */
    activationLag: nonNegative.default(0),
  }),
});

const rabbitmqTrigger = z.strictObject({
  type: z.literal('rabbitmq'),
  metadata: z.strictObject({
    queue: z.string().min(1),
    /** Ready + unacknowledged messages one replica is expected to work through. */
    messagesPerReplica: z.number().int().min(1),
    activationMessages: nonNegative.default(0),
    /**
     * Messages per second one replica keeps up with. When set, the queue's publish rate also asks for
     * replicas, so a steady stream keeps the workers it needs after the backlog is gone (depth alone
     * would scale them down and let the backlog build again).
     */
    publishRatePerReplica: z.number().int().min(1).optional(),
  }),
});

const direction = (defaultWindow: number) =>
  z
    .strictObject({
      stabilizationWindowSeconds: z.number().int().min(0).max(3600).default(defaultWindow),
      /** Replicas added or removed per step at most (unset: no limit). */
      maxStep: z.number().int().min(1).optional(),
    })
    .default({ stabilizationWindowSeconds: defaultWindow });

export const workerAutoscalerSpec = z
  .strictObject({
    scaleTargetRef: z.strictObject({
      apiVersion: z.string().default('apps/v1'),
      kind: z.literal('Deployment').default('Deployment'),
      name: z.string().min(1),
    }),
    minReplicas: nonNegative.default(0),
    maxReplicas: z.number().int().min(1),
    pollingIntervalSeconds: z.number().int().min(1).max(3600).default(5),
    triggers: z.array(z.discriminatedUnion('type', [kafkaTrigger, rabbitmqTrigger])).min(1),
    behavior: z
      .strictObject({ scaleUp: direction(0), scaleDown: direction(60) })
      .default({ scaleUp: { stabilizationWindowSeconds: 0 }, scaleDown: { stabilizationWindowSeconds: 60 } }),
    fallback: z
      .strictObject({ replicas: nonNegative, afterFailures: z.number().int().min(1).default(3) })
      .optional(),
  })
  .refine((spec) => spec.minReplicas <= spec.maxReplicas, {
    message: 'minReplicas must not exceed maxReplicas',
    path: ['minReplicas'],
  });

export type WorkerAutoscalerSpec = z.output<typeof workerAutoscalerSpec>;

export const workerAutoscaler = z.object({
  apiVersion: z.literal('orderflow.io/v1alpha1'),
  kind: z.literal('WorkerAutoscaler'),
  metadata: z.object({ name: z.string().min(1), namespace: z.string().optional() }).passthrough(),
  spec: workerAutoscalerSpec,
});

export type WorkerAutoscaler = z.output<typeof workerAutoscaler>;
