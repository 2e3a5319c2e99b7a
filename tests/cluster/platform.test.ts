/**
 * Orderflow on a real kind cluster, in the order a user meets it: skaffold builds the image, loads
 * it into kind and helm-installs the chart; the README's requests answer on the node port; the
 * operator scales a worker stage from a real backlog and back; pods of every kind are deleted under
 * a stream of orders and nothing is lost; the release's Prometheus scrapes every pod and answers the
 * dashboard's queries; skaffold delete removes it all. scripts/test.sh creates the
 * cluster (`npm run cluster:up`) before this file and deletes it after. One file, run in order: each
 * step needs the release the first one installed.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { createDataSource } from '../../lib/adapters/postgres/data-source';
import { queueRedeliveries } from '../../lib/adapters/rabbitmq/management';
import { isTerminal } from '../../lib/domain/order-status';
import { actors, bearer, orderBody } from '../support/api';
import {
  API_URL,
  CONTEXT,
  clusterTools,
  deploymentReplicas,
  kubectl,
  kubectlJson,
  pods,
  portForward,
  run,
  type ClusterTools,
  watchPodCosts,
} from '../support/cluster';
import { dashboardQueries, evaluateDashboard, waitForTargets, type QueryResult } from '../support/prometheus';
import { eventually } from '../support/services';
import { assertInvariants } from '../pipeline/harness';

jest.setTimeout(20 * 60_000);

const DASHBOARD = JSON.parse(
  readFileSync(join(__dirname, '../../charts/orderflow/dashboards/orderflow.json'), 'utf8'),
);
/** The components whose pods serve /metrics to the release's Prometheus. */
const SCRAPED = ['api', 'relay', 'dispatcher', 'worker-', 'operator'];

const http = () => request(API_URL);
const report: Record<string, unknown> = {};
let tools: ClusterTools;

const seconds = (ms: number) => Math.round(ms / 100) / 10;

beforeAll(async () => {
  tools = await clusterTools();
});

afterAll(() => {
  console.log(`cluster test report\n${JSON.stringify(report, null, 2)}`);
});

/** The release's RabbitMQ management API, through a port-forward, with the release's credentials. */
async function rabbitManagement() {
  const secret = await kubectlJson(tools, ['get', 'secret', 'orderflow-rabbitmq']);
  const decode = (key: string) => encodeURIComponent(Buffer.from(secret.data[key], 'base64').toString());
  const forward = await portForward(tools, 'service/orderflow-rabbitmq', 15672);
  const url = `http://${decode('RABBITMQ_DEFAULT_USER')}:${decode('RABBITMQ_DEFAULT_PASS')}@127.0.0.1:${forward.port}`;
  return {
    /** Deliveries the queue has handed out again (the AMQP redelivered flag), since it was declared. */
    redelivered: (queue: string) => queueRedeliveries(url, queue),
    stop: forward.stop,
  };
}

/** Waits until a Deployment's rollout has finished. */
const rolledOut = (deployment: string) =>
  kubectl(tools, ['rollout', 'status', `deployment/${deployment}`, '--timeout=180s'], { timeoutMs: 200_000 });

/** A stage whose every task takes `latencyMs`, one task per pod at a time: its pods are the bottleneck. */
async function slowStage(deployment: string, latencyMs: number) {
  await kubectl(tools, [
    'set',
    'env',
    `deployment/${deployment}`,
    `STAGE_LATENCY_MS=${latencyMs}`,
    'WORKER_PREFETCH=1',
  ]);
  await rolledOut(deployment);
}

/** The stage as the chart runs it again (the rollout this starts is awaited by the caller). */
const unslowStage = (deployment: string) =>
  kubectl(tools, ['set', 'env', `deployment/${deployment}`, 'STAGE_LATENCY_MS-', 'WORKER_PREFETCH-']);

async function allReady() {
  const list = await pods(tools);
  const running = list.filter((p) => p.component !== 'migrate');
  return running.length > 0 && running.every((p) => p.phase === 'Running' && p.ready && !p.deleting)
    ? list
    : undefined;
}

describe('Orderflow on kind', () => {
  it('skaffold run builds the image, loads it into kind and installs the chart: every pod Ready, migrated and seeded', async () => {
    const started = Date.now();
    // skaffold's own status check gives up at the first container exit, and a process that starts
    // before PostgreSQL is up exits once by design; readiness is judged below instead.
    await run(tools, tools.skaffold, ['run', '--kube-context', CONTEXT, '--status-check=false'], {
      timeoutMs: 15 * 60_000,
    });
    const ready = await eventually(allReady, {
      timeoutMs: 5 * 60_000,
      intervalMs: 1000,
      what: 'every pod Ready',
    });
    report.install = { seconds: seconds(Date.now() - started), pods: ready.map((p) => p.name).sort() };
    const components = new Set(ready.map((p) => p.component));
    for (const c of [
      'api',
      'relay',
      'dispatcher',
      'worker-validate',
      'worker-reserve',
      'worker-pay',
      'worker-complete',
      'operator',
      'postgresql',
      'rabbitmq',
      'kafka',
    ])
      expect(components).toContain(c);
    // The migration Job ran (the schema is there) and seeded the demo customer.
    const health = await http().get('/readyz');
    expect(health.status).toBe(200);
  });

  it('answers the README requests on the node port and the order reaches COMPLETED', async () => {
    const login = await http()
      .post('/v1/auth/login')
      .send({ email: 'customer@orderflow.test', password: 'orderflow-demo' });
    expect(login.status).toBe(200);
    const auth = bearer(login.body.accessToken);
    const merchants = await http().get('/v1/merchants').set(auth);
    expect(merchants.status).toBe(200);
    const merchantId = merchants.body.items[0].id as string;
    const products = await http().get(`/v1/merchants/${merchantId}/products`).set(auth);
    const productId = products.body.items[0].id as string;
    const order = await http()
      .post('/v1/orders')
      .set(auth)
      .set('Idempotency-Key', `readme-${randomUUID()}`)
      .send(orderBody(merchantId, [{ productId, quantity: 2 }]));
    expect(order.status).toBe(202);
    expect(order.headers.location).toBe(`/v1/orders/${order.body.id}`);
    const started = Date.now();
    const done = await eventually(
      async () => {
        const res = await http().get(`/v1/orders/${order.body.id}`).set(auth);
        return isTerminal(res.body.status) ? res.body : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100, what: 'the order to finish' },
    );
    expect(done.status).toBe('COMPLETED');
    const history = await http().get(`/v1/orders/${order.body.id}/history`).set(auth);
    expect(history.body.entries.map((h: { toStatus: string }) => h.toStatus)).toEqual([
      'PENDING',
      'VALIDATED',
      'RESERVED',
      'PAID',
      'COMPLETED',
    ]);
    report.readme = { createdToCompletedMs: Date.now() - started };
  });

  it("serves the web console from the image, and its operations view reads the leading operator's autoscalers", async () => {
    const page = await http().get('/').set('Accept', 'text/html');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    const login = await http()
      .post('/v1/auth/login')
      .send({ email: 'admin@orderflow.test', password: 'orderflow-demo' });
    expect(login.status).toBe(200);
    // Through the <operator>-leader Service: the pod that holds the Lease labels itself.
    const overview = await eventually(
      async () => {
        const res = await http().get('/v1/ops/overview').set(bearer(login.body.accessToken));
        return res.status === 200 && res.body.autoscalers?.length > 0 ? res.body : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000, what: 'the operations view with the autoscalers' },
    );
    expect(overview.stages.map((s: { stage: string }) => s.stage)).toEqual([
      'validate',
      'reserve',
      'pay',
      'complete',
    ]);
    expect(overview.autoscalers.map((a: { target: string }) => a.target)).toEqual(
      expect.arrayContaining(['orderflow-worker-pay', 'orderflow-dispatcher']),
    );
  });

  it('the operator scales a slowed worker stage from its live backlog, new pods drain it, and it scales back without a redelivery', async () => {
    const stage = 'orderflow-worker-pay';
    const queue = 'orderflow.stage.pay';
    // One task at a time, a quarter of a second each: five payments a second per pod, so a burst of
    // orders builds a backlog only more pods can drain.
    await slowStage(stage, 250);
    await eventually(async () => ((await deploymentReplicas(tools, stage)).spec === 1 ? true : undefined), {
      timeoutMs: 120_000,
      intervalMs: 1000,
      what: `${stage} at its minimum before the burst`,
    });
    const { customer, merchantId, productIds } = await shopper(5, 10_000);
    const management = await rabbitManagement();
    const redeliveredBefore = await management.redelivered(queue);
    const samples: {
      t: number;
      depth?: number;
      source?: string;
      desired: number;
      spec: number;
      ready: number;
    }[] = [];
    const started = Date.now();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const [wa, d] = await Promise.all([
          kubectlJson(tools, ['get', 'workerautoscaler', stage]).catch(() => undefined),
          deploymentReplicas(tools, stage).catch(() => undefined),
        ]);
        const depth = wa?.status?.triggers?.find((t: { name: string }) => t.name === `rabbitmq:${queue}`);
        if (wa && d)
          samples.push({
            t: Date.now() - started,
            depth: depth?.value,
            source: depth?.source,
            desired: wa.status?.desiredReplicas ?? 0,
            ...d,
          });
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    const ids = await placeMany(customer.token, merchantId, productIds, 200, 40);
    const firstUp = await eventually(() => samples.find((s) => s.ready > 1), {
      timeoutMs: 180_000,
      intervalMs: 500,
      what: `${stage} to run more than one Ready pod`,
    });
    const drained = await waitForTerminalOrders(ids, 10 * 60_000);
    const backDown = await eventually(
      () => samples.find((s) => s.t > drained.atMs - started && s.spec === 1 && s.ready === 1),
      { timeoutMs: 300_000, intervalMs: 1000, what: `${stage} back at one replica` },
    );
    sampling = false;
    await sampler;
    // The management API's counters lag by up to its 5 s statistics interval.
    await new Promise((r) => setTimeout(r, 6000));
    const redelivered = (await management.redelivered(queue)) - redeliveredBefore;
    management.stop();
    await unslowStage(stage);
    const peak = Math.max(...samples.map((s) => s.ready));
    expect(peak).toBeGreaterThan(1);
    expect([...drained.statuses.values()].every((s) => s === 'COMPLETED')).toBe(true);
    // The operator read the backlog live (RabbitMQ over AMQP plus the pods' own metrics), and no pod
    // removed on the way down gave a task back.
    const sources = samples.map((s) => s.source).filter(Boolean);
    expect(sources).toContain('amqp+workers');
    expect(redelivered).toBe(0);
    const aboveTarget = samples.find((s) => (s.depth ?? 0) > 20)?.t;
    const scaledUp = samples.find((s) => s.spec > 1)?.t;
    report.scaling = {
      stage,
      orders: ids.length,
      liveReadings: `${sources.filter((s) => s === 'amqp+workers').length} of ${sources.length}`,
      redelivered,
      firstDepthAboveTargetS: seconds(aboveTarget ?? NaN),
      firstScaleUpS: seconds(scaledUp ?? NaN),
      firstNewPodReadyS: seconds(firstUp.t),
      // Sampled every ~0.5 s through kubectl, so each is within about a sample of the truth.
      scaleUpAfterDepthS: seconds((scaledUp ?? NaN) - (aboveTarget ?? NaN)),
      podReadyAfterScaleUpS: seconds(firstUp.t - (scaledUp ?? NaN)),
      peakReadyReplicas: peak,
      drainedS: seconds(drained.atMs - started),
      backAtOneReplicaS: seconds(backDown.t),
    };
    await rolledOut(stage);
  });

  it('scaling down, the operator keeps the pod that holds a task and removes idle ones: the task finishes where it started, nothing redelivered', async () => {
    const stage = 'orderflow-worker-complete';
    const queue = 'orderflow.stage.complete';
    const selector = 'app.kubernetes.io/instance=orderflow,orderflow.io/stage=complete';
    const original = (await kubectlJson(tools, ['get', 'workerautoscaler', stage])).spec;
    const patchSpec = (spec: object) =>
      kubectl(tools, ['patch', 'workerautoscaler', stage, '--type', 'merge', '-p', JSON.stringify({ spec })]);
    // One task at a time, each held 40 s: far longer than a scale-down takes, and longer than a
    // stopping worker's 10 s drain, so a busy pod removed would give its task back (a redelivery).
    await slowStage(stage, 40_000);
    await patchSpec({ minReplicas: 3, maxReplicas: 3 });
    await eventually(async () => ((await deploymentReplicas(tools, stage)).ready === 3 ? true : undefined), {
      timeoutMs: 180_000,
      intervalMs: 1000,
      what: `${stage} at 3 Ready pods`,
    });
    const management = await rabbitManagement();
    const redeliveredBefore = await management.redelivered(queue);
    const watch = watchPodCosts(tools, selector);

    const { customer, merchantId, productIds } = await shopper(1, 10);
    const [orderId] = await placeMany(customer.token, merchantId, productIds, 1, 1);
    // The order is PAID and its complete task is in one pod's hands (ready 0, held 1, read live).
    await eventually(
      async () => {
        const wa = await kubectlJson(tools, ['get', 'workerautoscaler', stage]);
        const trigger = wa.status?.triggers?.find((t: { name: string }) => t.name === `rabbitmq:${queue}`);
        return trigger?.value === 1 && trigger.source === 'amqp+workers' ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'the complete task held by a worker' },
    );
    const heldSince = Date.now();
    const three = (await pods(tools, selector)).filter((p) => p.ready && !p.deleting).map((p) => p.name);
    expect(three).toHaveLength(3);
    await patchSpec({
      minReplicas: 1,
      maxReplicas: 3,
      behavior: { scaleDown: { stabilizationWindowSeconds: 0, maxStep: 2 } },
    });
    await eventually(
      async () => {
        const live = [...watch.latest().values()].filter((p) => !p.deleting);
        return live.length === 1 && (await deploymentReplicas(tools, stage)).spec === 1 ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: `${stage} down to one pod` },
    );
    const scaledDownAfterS = seconds(Date.now() - heldSince);
    // Still paid, not completed: the scale-down came while the task was held.
    const during = await http().get(`/v1/orders/${orderId}`).set(bearer(customer.token));
    const { statuses } = await waitForTerminalOrders([orderId!], 120_000);
    await new Promise((r) => setTimeout(r, 6000)); // the management API's counters lag by up to 5 s
    const redelivered = (await management.redelivered(queue)) - redeliveredBefore;
    management.stop();
    watch.stop();

    await patchSpec({
      minReplicas: original.minReplicas,
      maxReplicas: original.maxReplicas,
      behavior: original.behavior,
    });
    await unslowStage(stage);
    const seen = [...watch.latest().values()].filter((p) => three.includes(p.name));
    const removed = seen.filter((p) => p.deleting);
    const kept = seen.filter((p) => !p.deleting);
    report.scaleDownChoice = {
      stage,
      pods: seen,
      scaledDownAfterS,
      statusDuringScaleDown: during.body.status,
      redelivered,
    };

    // The operator marked the busy pod dearest (one task held) and the idle ones free, and the
    // ReplicaSet removed the idle ones; the task finished in the pod it started in.
    expect(during.body.status).toBe('PAID');
    expect(kept.map((p) => p.cost)).toEqual(['1']);
    expect(removed.map((p) => p.cost)).toEqual(['0', '0']);
    expect(statuses.get(orderId!)).toBe('COMPLETED');
    expect(redelivered).toBe(0);
    await rolledOut(stage);
  });

  it('pod deletion under a stream of orders loses nothing: every order terminal once, one payment, stock conserved', async () => {
    const { customer, merchantId, productIds } = await shopper(8, 100_000);
    const { db: before, close: closeBefore } = await database();
    const stockAtStart = new Map<string, number>(
      (
        (await before.query('SELECT id, stock FROM products WHERE id = ANY($1)', [productIds])) as {
          id: string;
          stock: number;
        }[]
      ).map((p) => [p.id, p.stock]),
    );
    await closeBefore();

    // Every kind of pod is deleted at least once (the operator's leader, PostgreSQL, RabbitMQ and Kafka
    // among them), then random ones; every third deletion is forced (no grace period).
    const kinds = [
      'api',
      'relay',
      'dispatcher',
      'worker-validate',
      'worker-reserve',
      'worker-pay',
      'worker-complete',
      'operator-leader',
      'postgresql',
      'rabbitmq',
      'kafka',
    ];
    const schedule = [...kinds].sort(() => Math.random() - 0.5);
    const deletions: { kind: string; pod: string; forced: boolean; atS: number }[] = [];
    const started = Date.now();
    let streaming = true;
    const chaos = (async () => {
      for (let i = 0; streaming || i < schedule.length; i++) {
        await new Promise((r) => setTimeout(r, 4000));
        const kind = schedule[i] ?? kinds[Math.floor(Math.random() * kinds.length)]!;
        const pod = await victim(kind).catch(() => undefined);
        if (!pod) continue;
        const forced = i % 3 === 2;
        await kubectl(tools, [
          'delete',
          'pod',
          pod,
          '--wait=false',
          ...(forced ? ['--grace-period=0', '--force'] : []),
        ]).catch(() => undefined);
        deletions.push({ kind, pod, forced, atS: seconds(Date.now() - started) });
      }
    })();
    const ids = await placeMany(customer.token, merchantId, productIds, 600, 10);
    streaming = false;
    await chaos;
    await eventually(allReady, { timeoutMs: 5 * 60_000, intervalMs: 1000, what: 'every pod Ready again' });
    const { statuses } = await waitForTerminalOrders(ids, 10 * 60_000);

    const { db, close } = await database();
    try {
      await assertInvariants({ db } as never, ids, stockAtStart);
      // Orders accepted whose answer the client never saw count too: everything of this store is terminal.
      const open: unknown[] = await db.query(
        `SELECT id, status FROM orders WHERE merchant_id = $1 AND status NOT IN ('COMPLETED', 'REJECTED', 'FAILED', 'CANCELLED')`,
        [merchantId],
      );
      expect(open).toEqual([]);
      const byStatus: Record<string, number> = {};
      for (const status of statuses.values()) byStatus[status] = (byStatus[status] ?? 0) + 1;
      const restarts = (await pods(tools)).reduce((n, p) => n + p.restarts, 0);
      report.chaos = {
        accepted: ids.length,
        byStatus,
        deletions: deletions.length,
        forced: deletions.filter((d) => d.forced).length,
        deleted: deletions.map((d) => `${d.atS}s ${d.kind}${d.forced ? ' (forced)' : ''}`),
        containerRestarts: restarts,
        seconds: seconds(Date.now() - started),
      };
      expect(byStatus.COMPLETED).toBeGreaterThan(0);
      expect(new Set(deletions.map((d) => d.kind))).toEqual(new Set(kinds));
    } finally {
      await close();
    }
  });
  it('a Prometheus in the release scrapes every Orderflow pod and answers every query of the shipped dashboard', async () => {
    const forward = await portForward(tools, 'service/orderflow-prometheus', 9090);
    try {
      const url = `http://127.0.0.1:${forward.port}`;
      // A target up on every live pod of the API, the relay, the dispatcher, the four stages and the
      // operators, asked anew on each poll: the operator still scales the stages down after the chaos
      // load, and addresses of pods already gone leave with the next DNS refresh.
      const scrapedHosts = async () =>
        (await pods(tools))
          .filter(
            (p) => SCRAPED.some((c) => p.component.startsWith(c)) && p.phase === 'Running' && !p.deleting,
          )
          .flatMap((p) => (p.ip ? [p.ip] : []));
      const targets = await waitForTargets(url, { hosts: scrapedHosts, timeoutMs: 180_000 });
      const { customer, merchantId, productIds } = await shopper(4, 10_000);
      const stream = placeMany(customer.token, merchantId, productIds, 120, 4);
      // Rates need two scrapes in their window and quantiles fresh observations: evaluate while
      // orders flow, until each query has answered with data.
      const key = (r: QueryResult) => `${r.panelId}/${r.refId}`;
      const answered = new Set<string>();
      let last: QueryResult[] = [];
      const deadline = Date.now() + 120_000;
      while (answered.size < dashboardQueries(DASHBOARD).length && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 2000));
        last = await evaluateDashboard(url, DASHBOARD, { scrapeIntervalSeconds: 5 });
        for (const r of last) if (r.hasData) answered.add(key(r));
      }
      await stream;
      report.prometheus = {
        targets: targets.length,
        jobs: [...new Set(targets.map((t) => t.labels.job))].sort(),
        queries: last.length,
        answered: answered.size,
      };
      const withoutData = last
        .filter((r) => !answered.has(key(r)))
        .map(({ panel, refId, sent, series, error }) => ({ panel, refId, sent, series, error }));
      expect(withoutData).toEqual([]);
      expect(last.length).toBeGreaterThanOrEqual(20);
      // The API's, the pipeline's and the operator's headless Services, each a job with targets up.
      expect(new Set(targets.map((t) => t.labels.job)).size).toBe(3);
    } finally {
      forward.stop();
    }
  });
  it('skaffold delete removes the release', async () => {
    await run(tools, tools.skaffold, ['delete', '--kube-context', CONTEXT], { timeoutMs: 5 * 60_000 });
    await eventually(async () => ((await pods(tools)).length === 0 ? true : undefined), {
      timeoutMs: 3 * 60_000,
      intervalMs: 1000,
      what: 'every pod of the release gone',
    });
    const releases = await run(tools, tools.helm, ['--kube-context', CONTEXT, 'list', '-A', '-q']);
    expect(releases.trim()).toBe('');
  });
});

/** A pod of a kind to delete: by component label, or the operator replica holding the Lease. */
async function victim(kind: string): Promise<string | undefined> {
  if (kind === 'operator-leader') {
    const lease = await kubectlJson(tools, ['get', 'lease', 'orderflow-operator']);
    return lease.spec?.holderIdentity;
  }
  const candidates = (await pods(tools)).filter((p) => p.component === kind && !p.deleting);
  return candidates[Math.floor(Math.random() * candidates.length)]?.name;
}

/** A new merchant whose products have plenty of stock, and a new customer. */
async function shopper(products: number, stock: number) {
  const who = actors(http);
  const store = await who.merchantWithProducts(
    Array.from({ length: products }, (_, i) => ({ priceCents: 500 + i, stock })),
  );
  const customer = await who.account('customer');
  return { customer, ...store };
}

/**
 * Places `count` orders at about `perSecond`, each with its own Idempotency-Key, retried on
 * connection errors and 5xx until accepted (a retried key returns the order already accepted). Returns
 * the ids of accepted orders.
 */
async function placeMany(
  token: string,
  merchantId: string,
  productIds: string[],
  count: number,
  perSecond: number,
) {
  const ids: string[] = [];
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const key = randomUUID();
    const items = [{ productId: productIds[i % productIds.length]!, quantity: 1 + (i % 3) }];
    inFlight.push(
      (async () => {
        for (let attempt = 0; attempt < 120; attempt++) {
          const res = await http()
            .post('/v1/orders')
            .set(bearer(token))
            .set('Idempotency-Key', key)
            .timeout(10_000)
            .send(orderBody(merchantId, items))
            .catch(() => undefined);
          if (res?.status === 202) return void ids.push(res.body.id);
          // An earlier attempt this client gave up on (its pod deleted, or past the 10 s timeout) is still
          // running: the API says so, and a retry later replays its answer.
          const inProgress = res?.status === 409 && /idempotency-key-in-use$/.test(String(res.body.type));
          if (res && res.status < 500 && !inProgress)
            throw new Error(`order refused: ${res.status} ${JSON.stringify(res.body)}`);
          await new Promise((r) => setTimeout(r, 500));
        }
        throw new Error('an order was never accepted');
      })(),
    );
    await new Promise((r) => setTimeout(r, 1000 / perSecond));
  }
  await Promise.all(inFlight);
  return ids;
}

/** PostgreSQL of the release through a port-forward that survives the pod being replaced. */
async function database() {
  const forward = await portForward(tools, 'service/orderflow-postgresql', 5432);
  const db = createDataSource({
    url: `postgres://orderflow:orderflow@127.0.0.1:${forward.port}/orderflow`,
    poolSize: 2,
    applicationName: 'cluster-test',
  });
  await eventually(() => db.initialize().then(() => true), {
    timeoutMs: 60_000,
    intervalMs: 1000,
    what: 'PostgreSQL',
  });
  return { db, close: async () => (await db.destroy(), forward.stop()) };
}

async function waitForTerminalOrders(ids: string[], timeoutMs: number) {
  const { db, close } = await database();
  try {
    const statuses = await eventually(
      async () => {
        const rows: { id: string; status: string }[] = await db.query(
          'SELECT id, status FROM orders WHERE id = ANY($1)',
          [ids],
        );
        return rows.length === ids.length && rows.every((r) => isTerminal(r.status as never))
          ? new Map(rows.map((r) => [r.id, r.status]))
          : undefined;
      },
      { timeoutMs, intervalMs: 1000, what: `${ids.length} orders to finish` },
    );
    return { statuses, atMs: Date.now() };
  } finally {
    await close();
  }
}
