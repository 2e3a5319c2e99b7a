import { randomUUID } from 'node:crypto';

/** CloudEvents 1.0 (structured JSON) envelope for every event on orderflow.order-events. */
export interface CloudEvent<T = unknown> {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  data: T;
}

export const EVENT_TYPES = {
  orderCreated: 'orderflow.order.created',
  orderStatusChanged: 'orderflow.order.status_changed',
} as const;

/** Records are structured-mode CloudEvents; the body's content type travels in this header. */
export const CLOUDEVENTS_CONTENT_TYPE = 'application/cloudevents+json; charset=utf-8';

/**
 * The event's type, copied into a record header (as the CloudEvents Kafka binding names it) so a
 * consumer can pass over the types it does not handle without parsing their bodies.
 */
export const EVENT_TYPE_HEADER = 'ce_type';

export function cloudEvent<T>(
  type: string,
  source: string,
  orderId: string,
  data: T,
  time = new Date(),
): CloudEvent<T> {
  return {
    specversion: '1.0',
    id: randomUUID(),
    source,
    type,
    subject: orderId,
    time: time.toISOString(),
    datacontenttype: 'application/json',
    data,
  };
}
