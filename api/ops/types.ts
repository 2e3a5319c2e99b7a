/* The operations view's data, shared by the API (api/ops/overview.ts) and the console: no imports. */

/**
 * What the console's operations view shows, read from the sources the operator and Prometheus read:
 * RabbitMQ's management API (queues, rates, dead letters), PostgreSQL (outbox backlog) and the
 * operator's own status (autoscalers; the dispatcher's Kafka lag is its Kafka trigger's reading).
 * Nothing is computed here that those sources do not say.
 */
export interface OpsOverview {
  at: string;
  stages: {
    stage: string;
    queue: string;
    ready: number;
    unacked: number;
    consumers: number;
    publishRate: number;
    ackRate: number;
  }[];
  deadLetters: {
    count: number;
    recent: { messageId: string | null; reason: string | null; source: string | null }[];
  };
  outbox: { backlog: number };
  kafka: { lag: number | null };
  autoscalers: AutoscalerSummary[] | null;
}

export interface AutoscalerSummary {
  name: string;
  target: string;
  minReplicas: number;
  maxReplicas: number;
  currentReplicas: number;
  desiredReplicas: number;
  triggers: { name: string; value?: number; replicas?: number; source?: string; error?: string }[];
}
