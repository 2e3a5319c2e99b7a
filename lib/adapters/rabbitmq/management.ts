/**
 * The RabbitMQ management HTTP API, addressed by a URL that carries its credentials
 * (http://user:pass@host:15672). The queue path takes care of vhost and name encoding.
 */
export function managementQueue(managementUrl: string, queue: string, vhost = '/') {
  const url = new URL(managementUrl);
  const auth = Buffer.from(
    `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`,
  ).toString('base64');
  const endpoint = `${url.origin}/api/queues/${encodeURIComponent(vhost)}/${encodeURIComponent(queue)}`;
  return (suffix = '', init: RequestInit = {}) =>
    fetch(`${endpoint}${suffix}`, {
      ...init,
      headers: { authorization: `Basic ${auth}`, ...(init.headers ?? {}) },
      signal: init.signal ?? AbortSignal.timeout(5000),
    });
}
