import { formatStatusTable } from './status-table';

describe('formatStatusTable', () => {
  it('prints one aligned line per autoscaler with each trigger as value → replicas', () => {
    const text = formatStatusTable([
      {
        namespace: 'default',
        name: 'worker-pay',
        target: 'orderflow-worker-pay',
        minReplicas: 1,
        maxReplicas: 8,
        status: {
          currentReplicas: 2,
          desiredReplicas: 3,
          triggers: [
            {
              name: 'rabbitmq:orderflow.stage.pay',
              type: 'rabbitmq',
              value: 240,
              replicas: 3,
              source: 'amqp+workers',
            },
          ],
          conditions: [
            { type: 'Ready', status: 'True', reason: 'Reconciled', message: '', lastTransitionTime: '' },
            { type: 'Active', status: 'True', reason: 'x', message: '', lastTransitionTime: '' },
          ],
        },
      },
      {
        namespace: 'shop',
        name: 'dispatcher',
        target: 'orderflow-dispatcher',
        minReplicas: 1,
        maxReplicas: 12,
        status: {
          currentReplicas: 1,
          desiredReplicas: 1,
          triggers: [{ name: 'kafka:t/g', type: 'kafka', error: 'broker down' }],
          conditions: [],
        },
      },
    ]);
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(
      /^AUTOSCALER\s+TARGET\s+MIN\s+MAX\s+CURRENT\s+DESIRED\s+ACTIVE\s+READY\s+TRIGGERS/,
    );
    expect(lines[1]).toMatch(
      /^worker-pay\s+orderflow-worker-pay\s+1\s+8\s+2\s+3\s+True\s+True\s+rabbitmq:orderflow.stage.pay=240→3 \(amqp\+workers\)$/,
    );
    expect(lines[2]).toContain('shop/dispatcher');
    expect(lines[2]).toContain('kafka:t/g=error(broker down)');
    expect(lines[1]!.indexOf('orderflow-worker-pay')).toBe(lines[2]!.indexOf('orderflow-dispatcher'));
  });

  it('says so when there is nothing to show', () => {
    expect(formatStatusTable([])).toBe('no WorkerAutoscalers\n');
  });
});
