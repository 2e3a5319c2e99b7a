import { join } from 'node:path';
import { Writable } from 'node:stream';
import { startControlServer } from '../../cli/supervisor/control';
import { Supervisor } from '../../cli/supervisor/supervisor';

const quiet = new Writable({ write: (_chunk, _enc, done) => done() });

describe('supervisor control endpoint', () => {
  it('lists roles and scales one over HTTP', async () => {
    const supervisor = new Supervisor({ output: quiet, colour: false, stopTimeoutMs: 5000 });
    supervisor.add({
      role: 'worker-pay',
      command: process.execPath,
      args: [join(__dirname, '../fixtures/child.js')],
    });
    const control = await startControlServer(supervisor, { host: '127.0.0.1', port: 0, maxReplicas: 5 });
    const base = `http://127.0.0.1:${control.port}`;
    try {
      const roles = await (await fetch(`${base}/v1/roles`)).json();
      expect(roles).toEqual([expect.objectContaining({ role: 'worker-pay', replicas: 1 })]);

      const put = (role: string, body: string) =>
        fetch(`${base}/v1/roles/${role}/replicas`, {
          method: 'PUT',
          body,
          headers: { 'content-type': 'application/json' },
        });
      const scaled = await put('worker-pay', '{"replicas":3}');
      expect(scaled.status).toBe(200);
      expect(((await scaled.json()) as { replicas: number }).replicas).toBe(3);
      expect(supervisor.list().map((i) => i.name)).toEqual(['worker-pay#1', 'worker-pay#2', 'worker-pay#3']);

      expect((await put('worker-pay', '{"replicas":6}')).status).toBe(400);
      expect((await put('worker-pay', '{"replicas":-1}')).status).toBe(400);
      expect((await put('worker-pay', 'nope')).status).toBe(400);
      expect((await put('nobody', '{"replicas":1}')).status).toBe(404);

      expect(
        ((await (await put('worker-pay', '{"replicas":1}')).json()) as { replicas: number }).replicas,
      ).toBe(1);
      expect(supervisor.replicas('worker-pay')).toBe(1);
    } finally {
      await control.close();
      await supervisor.stop();
    }
  });
});
