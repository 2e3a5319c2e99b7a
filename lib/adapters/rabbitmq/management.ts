/**
 * The RabbitMQ management HTTP API, addressed by a URL that carries its credentials
 * (http://user:pass@host:15672): `managementApi(url)('/api/overview')`.
 */
export function managementApi(managementUrl: string) {
  const url = new URL(managementUrl);
  const auth = Buffer.from(
    `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`,
  ).toString('base64');
  return (path: string, init: RequestInit = {}) =>
    fetch(`${url.origin}${path}`, {
      ...init,
      headers: { authorization: `Basic ${auth}`, ...(init.headers ?? {}) },
      signal: init.signal ?? AbortSignal.timeout(5000),
    });
}

/** One queue of the management API; the path takes care of vhost and name encoding. */
export function managementQueue(managementUrl: string, queue: string, vhost = '/') {
  const api = managementApi(managementUrl);
  const path = `/api/queues/${encodeURIComponent(vhost)}/${encodeURIComponent(queue)}`;
  return (suffix = '', init: RequestInit = {}) => api(`${path}${suffix}`, init);
}

/**
 * Deliveries the queue has handed out again (the AMQP redelivered flag) since it was declared: a task
 * a stopped worker gave back, or one a lost connection left unacknowledged. From the management API's
 * statistics, so up to one statistics interval (about 5 s) old.
 */
export async function queueRedeliveries(managementUrl: string, queue: string, vhost = '/'): Promise<number> {
  const res = await managementQueue(managementUrl, queue, vhost)('?columns=message_stats.redeliver');
  if (!res.ok) throw new Error(`statistics of ${queue}: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { message_stats?: { redeliver?: number } };
  return body.message_stats?.redeliver ?? 0;
}
