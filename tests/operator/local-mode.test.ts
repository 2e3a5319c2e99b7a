import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { startControlServer } from '../../cli/supervisor/control';
import { Supervisor } from '../../cli/supervisor/supervisor';
import { kafkaBacklog, rabbitBacklog } from '../support/backlog';
import { eventually, freePort, runOrderflow, testConfig, uniqueName } from '../support/services';

const config = testConfig();
const quiet = new Writable({ write: (_chunk, _enc, done) => done() });

const autoscaler = (name: string, target: string, maxReplicas: number, trigger: string) => `
apiVersion: orderflow.io/v1alpha1
kind: WorkerAutoscaler
metadata:
  name: ${name}
spec:
  scaleTargetRef:
    name: ${target}
  minReplicas: 1
  maxReplicas: ${maxReplicas}
  pollingIntervalSeconds: 1
  triggers:
${trigger}
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 3
`;

/**
 * Local mode end to end: the real operator process reads WorkerAutoscaler YAML, measures a real queue
 * and a real topic, and scales the roles of a real supervisor through its control endpoint.
 */
describe('operator --local', () => {
  const queue = uniqueName('test.autoscale');
  const topic = uniqueName('test.autoscale-lag');
  const group = uniqueName('never-consumed');
  const dir = mkdtempSync(join(tmpdir(), 'orderflow-autoscalers-'));
  const supervisor = new Supervisor({ output: quiet, colour: false, stopTimeoutMs: 5000 });
  const backlog = rabbitBacklog(config.rabbitmq.managementUrl, queue);
  let lag: Awaited<ReturnType<typeof kafkaBacklog>>;
  let control: Awaited<ReturnType<typeof startControlServer>>;
  let operator: ChildProcess;
  let operatorUrl: string;
  let output: () => string;
  let exited: Promise<number | null>;

  const replicas = (role: string) => supervisor.replicas(role);
  const writeDispatcher = (max: number) =>
    writeFileSync(
      join(dir, 'dispatcher.yaml'),
      autoscaler(
        'dispatcher',
        'orderflow-dispatcher',
        max,
        `    - type: kafka
      metadata:
        topic: ${topic}
        consumerGroup: ${group}
        lagPerReplica: 5`,
      ),
    );

  beforeAll(async () => {
    await backlog.create();
    // The whole backlog is in place before the operator looks, so it scales in one step.
    await backlog.publish(45);
    await backlog.settled(45);
    lag = await kafkaBacklog(config, topic, 3, 25);
    // The stand-in workers hold nothing, as idle workers would say from their metrics; with that, the
    // operator reads the backlog live: the broker's ready count over AMQP plus what the workers hold.
    for (const role of ['worker-pay', 'dispatcher'])
      supervisor.add({
        role,
        command: process.execPath,
        args: [join(__dirname, '../fixtures/child.js')],
        held: () => Promise.resolve(0),
      });
    control = await startControlServer(supervisor, { host: '127.0.0.1', port: 0 });
    writeFileSync(
      join(dir, 'worker-pay.yaml'),
      autoscaler(
        'worker-pay',
        'orderflow-worker-pay',
        6,
        `    - type: rabbitmq
      metadata:
        queue: ${queue}
        messagesPerReplica: 10`,
      ),
    );
    writeDispatcher(10);
    const port = await freePort();
    operatorUrl = `http://127.0.0.1:${port}`;
    ({
      child: operator,
      output,
      exited,
    } = runOrderflow(['operator', '--local', dir, '--supervisor', `http://127.0.0.1:${control.port}`], {
      PORT: String(port),
      LOG_LEVEL: 'info',
    }));
  });

  afterAll(async () => {
    if (operator.exitCode === null) operator.kill('SIGKILL');
    await control.close();
    await supervisor.stop();
    await backlog.remove().catch(() => undefined);
    await lag.remove();
  });

  it('scales a role up from queue depth, the dispatcher to exactly the partition count, then back down', async () => {
    await eventually(async () => (await fetch(`${operatorUrl}/healthz`)).ok, { what: 'operator up' });
    // 45 messages / 10 per replica = 5 replicas; 25 records of lag / 5 = 5, capped at the 3 partitions
    await eventually(() => replicas('worker-pay') === 5 && replicas('dispatcher') === 3, {
      what: `worker-pay 5 (is ${replicas('worker-pay')}), dispatcher 3 (is ${replicas('dispatcher')})`,
      timeoutMs: 30_000,
    });

    const status = await (await fetch(`${operatorUrl}/v1/autoscalers`)).json();
    expect(status).toEqual(
      expect.objectContaining({
        mode: 'local',
        autoscalers: expect.arrayContaining([
          expect.objectContaining({
            name: 'worker-pay',
            status: expect.objectContaining({
              desiredReplicas: 5,
              triggers: [
                expect.objectContaining({
                  name: `rabbitmq:${queue}`,
                  value: 45,
                  replicas: 5,
                  source: 'amqp+workers',
                }),
              ],
            }),
          }),
          expect.objectContaining({
            name: 'dispatcher',
            status: expect.objectContaining({
              desiredReplicas: 3,
              triggers: [expect.objectContaining({ value: 25, replicas: 3 })],
              conditions: expect.arrayContaining([
                expect.objectContaining({ type: 'ScalingLimited', status: 'False' }),
              ]),
            }),
          }),
        ]),
      }),
    );
    const metrics = await (await fetch(`${operatorUrl}/metrics`)).text();
    expect(metrics).toMatch(/orderflow_autoscaler_desired_replicas\{[^}]*autoscaler="worker-pay"[^}]*\} 5/);
    expect(metrics).toMatch(
      /orderflow_autoscaler_scale_events_total\{[^}]*autoscaler="worker-pay"[^}]*direction="up"[^}]*\} 1/,
    );
    expect(metrics).toMatch(/orderflow_autoscaler_leader\{[^}]*\} 1/);

    await backlog.purge();
    await eventually(() => replicas('worker-pay') === 1, { what: 'worker-pay back to 1', timeoutMs: 30_000 });
    // The operator logs the scale-down once the supervisor has answered, which can be just after the
    // supervisor's own count reads 1.
    await eventually(() => /scaled 5 -> 1/.test(output()), { what: 'the operator to log the scale-down' });
  });

  it('picks up an edited file without a restart', async () => {
    writeDispatcher(2);
    await eventually(() => replicas('dispatcher') === 2, {
      what: 'dispatcher capped at 2',
      timeoutMs: 20_000,
    });
    expect(output()).toContain('autoscalers reloaded');
  });

  it('stops cleanly on SIGTERM', async () => {
    operator.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
