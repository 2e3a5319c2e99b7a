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
