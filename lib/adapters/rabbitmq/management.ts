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
