import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bearer, orderBody, startTestApi, type TestApi } from '../support/api';
import { runSt, schemathesisBinary, wfcAuth } from '../support/schemathesis';
import { freshDatabase } from '../support/services';

/**
 * Property-based fuzzing of the whole API against the OpenAPI document it serves (issue 11).
 * Schemathesis reads the document and sends the API its examples, requests at the edges of every
 * constraint and just past them, random valid and invalid ones, and sequences that feed one
 * operation's answer into the next; it signs in as a customer, a merchant and an admin (the
 * operations view, read from the real RabbitMQ management API) and tries each operation without
 * credentials too. Every answer is checked against the document: no 5xx, only
 * documented statuses, content types, headers and bodies, schema-valid requests accepted and
 * schema-invalid ones refused, 405 with Allow for undeclared methods, and one customer never reading
 * another's order. The seed and the number of examples are fixed, so a run is repeatable.
 */

const SEED = 20261203;
/** Per operation and phase: about 3,160 requests, 90 s beside the other tests on 2 cores. */
const MAX_EXAMPLES = 100;
/** Schemathesis is stopped a minute before jest gives up on the test, so its report still shows. */
const ST_TIMEOUT_MS = 5 * 60_000;
const TIMEOUT_MS = ST_TIMEOUT_MS + 60_000;

/** See [dictionaries.hostile] below. */
const HOSTILE = ['\u0000', 'a\u0000b', ' \t\u3000', '😀'.repeat(60), "' OR '1'='1"];
/** Every text field of a request body, where the hostile strings go too. */
const TEXT_FIELDS = [
  'email',
  'password',
  'name',
  'description',
  'deliveryAddress.street',
  'deliveryAddress.number',
  'deliveryAddress.complement',
  'deliveryAddress.city',
  'deliveryAddress.postalCode',
  'deliveryAddress.notes',
  'payment.token',
];

let api: TestApi;
let work: string;
let stop: () => Promise<void>;
let url: string;

beforeAll(async () => {
  // A database of its own: the run adds hundreds of accounts, stores and orders, which must not slow
  // the other tests' listings, and starts from the same empty state each time.
  api = await startTestApi({ DATABASE_URL: await freshDatabase('orderflow_fuzz') });
  ({ url, stop } = await api.listen());
  work = mkdtempSync(join(tmpdir(), 'orderflow-fuzz-'));
});

afterAll(async () => {
  await stop?.();
  await api?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Real accounts and ids for generated requests to use, so they reach the code behind the lookups. */
async function knownIds() {
  const customer = await api.account('customer');
  const otherCustomer = await api.account('customer');
  const loginProbe = await api.account('customer');
  const admin = await api.admin();
  // Enough products that a generated order seldom lists one twice (refused with 422), each with more
  // stock than any order can take.
  const shop = await api.merchantWithProducts(
    Array.from({ length: 10 }, (_, i) => ({ priceCents: 100 * (i + 1), stock: 10_000_000 })),
  );
  const order = await api
    .http()
    .post('/v1/orders')
    .set(bearer(customer.token))
    .send(orderBody(shop.merchantId, [{ productId: shop.productIds[0]!, quantity: 1 }]));
  if (order.status !== 202) throw new Error(`order failed: ${order.status} ${JSON.stringify(order.body)}`);
  return { customer, otherCustomer, loginProbe, admin, shop, orderId: order.body.id as string };
}

/** Requests the API answered, from its own metrics. */
async function served(): Promise<number> {
  const metric = await api.registry.getSingleMetric('orderflow_http_requests_total')!.get();
  return metric.values.reduce((n, v) => n + v.value, 0);
}

/** Each route the API answered with a 2xx at least once, as `METHOD /path/:param`. */
async function succeededRoutes(): Promise<Set<string>> {
  const metric = await api.registry.getSingleMetric('orderflow_http_requests_total')!.get();
  return new Set(
    metric.values
      .filter((v) => String(v.labels.status).startsWith('2') && v.value > 0)
      .map((v) => `${v.labels.method} ${v.labels.route}`),
  );
}

function config(ids: Awaited<ReturnType<typeof knownIds>>, authFile: string): string {
  const toml = JSON.stringify; // a JSON string or array of strings is a valid TOML value
  const hostileText = TEXT_FIELDS.map((f) => `"body.${f}" = { dictionary = "hostile", probability = 0.1 }`);
  return `
# Nothing learned by an earlier run is replayed and nothing is written beside the test: the seed
# alone decides what is generated.
[cache]
enabled = false

# A warning means part of the API was out of reach (credentials refused, ids never found, a pattern
# it cannot generate from): the run would pass having tested less than it seems.
[warnings]
fail-on = true

[auth.wfc]
path = ${toml(authFile)}
# Two customers who must not see each other's orders (the object_level_authorization check).
peers = ["customer", "other-customer"]

[dictionaries.merchants]
values = ${toml([ids.shop.merchantId])}
[dictionaries.products]
values = ${toml(ids.shop.productIds)}
[dictionaries.orders]
values = ${toml([ids.orderId])}
[dictionaries.emails]
values = ${toml([ids.loginProbe.email])}
[dictionaries.passwords]
values = ${toml([ids.loginProbe.password])}

# Strings random generation seldom draws, each one a way text has broken an API: NUL (PostgreSQL text
# cannot hold it), blanks that trimming empties, characters outside the BMP (two UTF-16 units each,
# one character to JSON Schema's maxLength), and SQL quoting. Sent where the document allows them
# (valid requests) and where it does not (invalid ones).
[dictionaries.hostile]
values = ${toml(HOSTILE)}

# A random id is a 404 before any other rule is looked at: real ones much of the time let the
# merchant edit its own catalog, and a customer order from it, follow and cancel its order.
[parameters]
"path.merchantId" = { dictionary = "merchants", probability = 0.5 }
"path.productId" = { dictionary = "products", probability = 0.5 }
"path.orderId" = { dictionary = "orders", probability = 0.5 }
"body.merchantId" = { dictionary = "merchants", probability = 0.9 }
"body.items[*].productId" = { dictionary = "products", probability = 0.9 }
${hostileText.join('\n')}

# An account of its own for login (failed attempts lock an account out for a while, so not one the
# run signs in as), with its real email and password often enough that some logins succeed.
[[operations]]
include-operation-id = "login"
parameters = { "body.email" = { dictionary = "emails", probability = 0.5 }, "body.password" = { dictionary = "passwords", probability = 0.5 } }

# An order for products the merchant does not sell, has withdrawn or has too little stock of is
# refused with the documented 422: rules about other rows, which no schema can state, so a
# schema-valid order may rightly get it. The other statuses are Schemathesis's defaults.
[[operations]]
include-operation-id = "createOrder"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]

# Server-Sent Events: a stream of an order that is not finished (no workers run here) or of a store
# never ends by itself. Schemathesis reads an event stream until it ends, sends max-stream-events
# events, or the request timeout passes, and checks each event it read against the document; one
# event (an order's first, PENDING) is enough for that, and a store's stream that is live only has
# none to send, so a short timeout ends those reads. Everything else is checked as for any operation.
[[operations]]
include-operation-id = ["streamOrderEvents", "streamMerchantOrderEvents"]
max-stream-events = 1
request-timeout = 0.5
`;
}

describe('the API against its OpenAPI document', () => {
  it(
    'answers every generated request as the document says',
    async () => {
      const ids = await knownIds();
      const document = (await api.http().get('/openapi.json')).body as { paths: Record<string, object> };
      const operations = Object.values(document.paths).reduce((n, p) => n + Object.keys(p).length, 0);
      writeFileSync(join(work, 'openapi.json'), JSON.stringify(document));
      writeFileSync(
        join(work, 'auth.json'),
        JSON.stringify(
          wfcAuth([
            { name: 'customer', ...ids.customer },
            { name: 'merchant', ...ids.shop.owner },
            { name: 'other-customer', ...ids.otherCustomer },
            { name: 'admin', ...ids.admin },
          ]),
        ),
      );
      writeFileSync(join(work, 'schemathesis.toml'), config(ids, join(work, 'auth.json')));

      const servedBefore = await served();
      const started = Date.now();
      const run = await runSt(
        schemathesisBinary(),
        [
          ...['--config-file', join(work, 'schemathesis.toml'), 'run', join(work, 'openapi.json')],
          ...['--url', url, '--seed', String(SEED), '--max-examples', String(MAX_EXAMPLES)],
          ...['--phases', 'examples,coverage,fuzzing,stateful', '--checks', 'all'],
          ...['--generation-database', 'none', '--request-timeout', '10'],
          ...['--continue-on-failure', '--no-color'],
        ],
        { cwd: work, timeoutMs: ST_TIMEOUT_MS },
      );
      console.log(
        `schemathesis: ${run.testCases} test cases, ${(await served()) - servedBefore} HTTP requests served, ` +
          `${Math.round((Date.now() - started) / 1000)} s, exit ${run.exitCode}`,
      );
      if (run.exitCode !== 0) throw new Error(`Schemathesis found problems:\n${run.output}`);
      // A run that tested little is no evidence: every operation, and a real volume of requests.
      expect(run.output).toContain(`Tested: ${operations}`);
      expect(run.testCases).toBeGreaterThan(1000);
      // ... and every operation reached the code behind its checks at least once, as each role that
      // may call it (the admin's operations view among them), not only its refusals.
      const succeeded = await succeededRoutes();
      const documented = Object.entries(document.paths).flatMap(([path, methods]) =>
        Object.keys(methods).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
      );
      expect(documented.filter((op) => !succeeded.has(op))).toEqual([]);
    },
    TIMEOUT_MS,
  );
});
