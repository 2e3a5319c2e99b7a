import { z } from 'zod';

/**
 * The one place that reads the environment. Every process parses it once at start-up into a typed,
 * validated, frozen object; an invalid value stops start-up with a message naming the variable.
 */

const url = (protocols: string[]) =>
  z
    .string()
    .url()
    .refine((value) => URL.canParse(value) && protocols.includes(new URL(value).protocol.replace(/:$/, '')), {
      message: `must use ${protocols.join(' or ')}`,
    });

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const port = z.coerce.number().int().min(0).max(65535);

const brokerList = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.string().regex(/^[^:\s]+:\d{1,5}$/, 'each broker must be host:port')).min(1));

const pem = (label: string) =>
  z
    .string()
    .transform((value) => value.replace(/\\n/g, '\n'))
    .refine((value) => value.includes(label), { message: `must be a PEM ${label.toLowerCase()}` });

const envSchema = z
  .object({
    /** development (default) or production; production refuses unsafe defaults. */
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    /** PostgreSQL connection string. */
    DATABASE_URL: url(['postgres', 'postgresql']).default(
      'postgresql://orderflow:orderflow@127.0.0.1:5432/orderflow',
    ),
    /** Pool size per process. */
    DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
    /** Comma-separated Kafka bootstrap brokers. */
    KAFKA_BROKERS: brokerList.default(['127.0.0.1:9092']),
    /** Kafka client id prefix; the role is appended. */
    KAFKA_CLIENT_ID: z.string().min(1).default('orderflow'),
    /** AMQP 0-9-1 URL of RabbitMQ. */
    RABBITMQ_URL: url(['amqp', 'amqps']).default('amqp://orderflow:orderflow@127.0.0.1:5672'),
    /** RabbitMQ management HTTP API (queue depth for the operator), credentials in the URL. */
    RABBITMQ_MANAGEMENT_URL: url(['http', 'https']).default('http://orderflow:orderflow@127.0.0.1:15672'),
    /** HS256 signing secret for access tokens (at least 32 characters; required in production). */
    JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    /** HS256 (shared secret) or RS256 / ES256 (key pair in JWT_PRIVATE_KEY / JWT_PUBLIC_KEY, PEM). */
    JWT_ALGORITHM: z.enum(['HS256', 'RS256', 'ES256']).default('HS256'),
    JWT_PRIVATE_KEY: pem('PRIVATE KEY').optional(),
    JWT_PUBLIC_KEY: pem('PUBLIC KEY').optional(),
    /** `iss` and `aud` of issued tokens; verification requires both. */
    JWT_ISSUER: z.string().min(1).default('orderflow'),
    JWT_AUDIENCE: z.string().min(1).default('orderflow-api'),
    /** Access-token lifetime in seconds. */
    JWT_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(900),
    /** Failed logins allowed per account and client within the window before 429. */
    LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).max(1000).default(5),
    LOGIN_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
    /** Largest accepted request body in bytes. */
    HTTP_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(10_485_760).default(1_048_576),
    /** HTTP port of this process (API, or the metrics/health server of the other roles). */
    PORT: port.default(8080),
    /** Address to bind HTTP servers to; loopback unless told otherwise. */
    HOST: z.string().min(1).default('127.0.0.1'),
    /** pino log level. */
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Milliseconds a process waits for in-flight work on SIGTERM before it gives up. */
    SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(25_000),
    /** Partitions of orderflow.order-events when the relay creates it. */
    KAFKA_TOPIC_PARTITIONS: z.coerce.number().int().min(1).max(1000).default(12),
    /**
     * Outbox rows the relay claims per batch, and how often it looks for rows when nothing woke it (new
     * orders do not notify; an idle look is one index probe).
     */
    RELAY_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
    RELAY_POLL_MS: z.coerce.number().int().min(5).max(60_000).default(25),
    /** Hours published outbox rows are kept (marked published); 0 deletes each row as it is published. */
    OUTBOX_RETENTION_HOURS: z.coerce
      .number()
      .min(0)
      .max(24 * 30)
      .default(0),
    /** Kafka partitions the dispatcher handles concurrently. */
    DISPATCHER_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(12),
    /**
     * Unacknowledged deliveries per stage queue per worker process. They are handled in batches of at
     * most WORKER_BATCH_SIZE (one transaction each), so prefetch / batch size batches run at once.
     */
    WORKER_PREFETCH: z.coerce.number().int().min(1).max(1000).default(128),
    /** Most tasks of one stage handled together in one transaction (what arrived together, up to this). */
    WORKER_BATCH_SIZE: z.coerce.number().int().min(1).max(500).default(32),
    /**
     * How long a stage batch or the relay's next batch that is not full waits for more work to join
     * it: a few milliseconds of latency per hop buy much larger batches under moderate load.
     */
    BATCH_LINGER_MS: z.coerce.number().int().min(0).max(1000).default(50),
    /** Attempts per stage before an order is FAILED and its task dead-lettered. */
    WORKER_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(5).default(5),
    /** Simulated payment gateway: latency per charge and share of declined cards. */
    PAYMENT_LATENCY_MS: z.coerce.number().int().min(0).max(60_000).default(0),
    PAYMENT_DECLINE_RATE: z.coerce.number().min(0).max(1).default(0),
    /** Loopback port of `orderflow up`'s supervisor control endpoint (operator local mode, people). */
    SUPERVISOR_PORT: port.default(9300),
    /**
     * Set by `orderflow up`'s supervisor on every process it starts: the supervisor's pid. A role whose
     * parent is no longer that process (the supervisor was killed) stops as on SIGTERM.
     */
    ORDERFLOW_SUPERVISOR_PID: z.coerce.number().int().min(1).optional(),
    /** Simulated work per stage batch (ms), to make the pipeline visibly busy in demos. */
    STAGE_LATENCY_MS: z.coerce.number().int().min(0).max(60_000).default(0),
    /** Ops port of the local operator under `orderflow up` (/metrics, /v1/autoscalers); `orderflow status` reads it. */
    OPERATOR_PORT: port.default(9400),
    /**
     * Where the API reads the autoscalers for the console's operations view (GET /v1/autoscalers of
     * the operator); unset: the local operator on OPERATOR_PORT.
     */
    OPERATOR_URL: z.url().optional(),
    /** Kubernetes mode: the namespace whose WorkerAutoscalers the operator watches (unset: all). */
    OPERATOR_NAMESPACE: z.string().regex(dnsLabel, 'must be a namespace name').optional(),
    /** Kubernetes mode: the coordination.k8s.io Lease that elects one active operator. */
    OPERATOR_LEASE_NAME: z.string().regex(dnsLabel, 'must be a Lease name').default('orderflow-operator'),
    OPERATOR_LEASE_NAMESPACE: z.string().regex(dnsLabel, 'must be a namespace name').default('default'),
    /** A leader that has not renewed for this long is replaced; it renews every OPERATOR_LEASE_RENEW_SECONDS. */
    OPERATOR_LEASE_DURATION_SECONDS: z.coerce.number().int().min(2).max(300).default(15),
    OPERATOR_LEASE_RENEW_SECONDS: z.coerce.number().min(0.2).max(60).default(2),
    /** This operator instance's identity in the Lease (the chart passes the pod name). */
    POD_NAME: z.string().min(1).optional(),
  })
  .superRefine((env, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (env.JWT_ALGORITHM === 'HS256' && env.NODE_ENV === 'production' && !env.JWT_SECRET) {
      issue('JWT_SECRET', 'is required in production (at least 32 random characters)');
    }
    if (env.OPERATOR_LEASE_RENEW_SECONDS * 2 > env.OPERATOR_LEASE_DURATION_SECONDS) {
      issue('OPERATOR_LEASE_RENEW_SECONDS', 'must be at most half of OPERATOR_LEASE_DURATION_SECONDS');
    }
    if (env.JWT_SECRET && new Set(env.JWT_SECRET).size < 10) issue('JWT_SECRET', 'is too predictable');
    if (env.JWT_ALGORITHM !== 'HS256' && (!env.JWT_PRIVATE_KEY || !env.JWT_PUBLIC_KEY)) {
      issue('JWT_PRIVATE_KEY', `and JWT_PUBLIC_KEY are required for ${env.JWT_ALGORITHM}`);
    }
  });

export type Env = z.infer<typeof envSchema>;

export interface Config {
  readonly env: Env['NODE_ENV'];
  readonly database: { readonly url: string; readonly poolSize: number };
  readonly kafka: { readonly brokers: readonly string[]; readonly clientId: string };
  readonly rabbitmq: { readonly url: string; readonly managementUrl: string };
  readonly jwt: {
    readonly algorithm: Env['JWT_ALGORITHM'];
    readonly secret: string | undefined;
    readonly privateKey: string | undefined;
    readonly publicKey: string | undefined;
    readonly issuer: string;
    readonly audience: string;
    readonly ttlSeconds: number;
  };
  readonly login: { readonly maxFailures: number; readonly windowSeconds: number };
  readonly bodyLimitBytes: number;
  readonly http: { readonly host: string; readonly port: number };
  readonly logLevel: Env['LOG_LEVEL'];
  readonly shutdownTimeoutMs: number;
  readonly pipeline: {
    readonly topicPartitions: number;
    readonly relayBatchSize: number;
    readonly relayPollMs: number;
    readonly outboxRetentionHours: number;
    readonly dispatcherConcurrency: number;
    readonly workerPrefetch: number;
    readonly workerBatchSize: number;
    readonly batchLingerMs: number;
    readonly maxAttempts: number;
    readonly stageLatencyMs: number;
  };
  readonly payment: { readonly latencyMs: number; readonly declineRate: number };
  readonly supervisorPort: number;
  /** The pid of the `orderflow up` that started this process, if one did. */
  readonly supervisorPid: number | undefined;
  readonly operator: {
    readonly localPort: number;
    /** The operator's /v1/autoscalers base URL, as the API reads it. */
    readonly url: string;
    readonly namespace: string | undefined;
    readonly lease: {
      readonly name: string;
      readonly namespace: string;
      readonly durationSeconds: number;
      readonly renewSeconds: number;
    };
    readonly identity: string | undefined;
  };
}

export class ConfigError extends Error {
  constructor(readonly issues: readonly string[]) {
    super(`invalid configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Variables with our prefix that we do not know are typos, not silently ignored settings. These are
 * read by the scripts (stack, cluster, tests) and pass through to the processes they start.
 */
const KNOWN_PREFIXED = new Set([
  'ORDERFLOW_CACHE_DIR',
  'ORDERFLOW_STACK',
  'ORDERFLOW_LOCAL_IMAGES',
  'ORDERFLOW_CLUSTER_TESTS',
  'ORDERFLOW_SUPERVISOR_PID',
]);

export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(
    Object.entries(source).filter(([, value]) => value !== undefined && value !== ''),
  );
  const unknown = Object.keys(present).filter(
    (key) => key.startsWith('ORDERFLOW_') && !KNOWN_PREFIXED.has(key),
  );
  const parsed = envSchema.safeParse(present);
  const issues = [
    ...unknown.map((key) => `${key}: unknown setting`),
    ...(parsed.success
      ? []
      : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)),
  ];
  if (issues.length > 0 || !parsed.success) throw new ConfigError(issues);
  const env = parsed.data;
  return Object.freeze({
    env: env.NODE_ENV,
    database: Object.freeze({ url: env.DATABASE_URL, poolSize: env.DATABASE_POOL_SIZE }),
    kafka: Object.freeze({ brokers: Object.freeze(env.KAFKA_BROKERS), clientId: env.KAFKA_CLIENT_ID }),
    rabbitmq: Object.freeze({ url: env.RABBITMQ_URL, managementUrl: env.RABBITMQ_MANAGEMENT_URL }),
    jwt: Object.freeze({
      algorithm: env.JWT_ALGORITHM,
      secret: env.JWT_SECRET,
      privateKey: env.JWT_PRIVATE_KEY,
      publicKey: env.JWT_PUBLIC_KEY,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      ttlSeconds: env.JWT_TTL_SECONDS,
    }),
    login: Object.freeze({ maxFailures: env.LOGIN_MAX_FAILURES, windowSeconds: env.LOGIN_WINDOW_SECONDS }),
    bodyLimitBytes: env.HTTP_BODY_LIMIT_BYTES,
    http: Object.freeze({ host: env.HOST, port: env.PORT }),
    logLevel: env.LOG_LEVEL,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    pipeline: Object.freeze({
      topicPartitions: env.KAFKA_TOPIC_PARTITIONS,
      relayBatchSize: env.RELAY_BATCH_SIZE,
      relayPollMs: env.RELAY_POLL_MS,
      outboxRetentionHours: env.OUTBOX_RETENTION_HOURS,
      dispatcherConcurrency: env.DISPATCHER_CONCURRENCY,
      workerPrefetch: env.WORKER_PREFETCH,
      workerBatchSize: env.WORKER_BATCH_SIZE,
      batchLingerMs: env.BATCH_LINGER_MS,
      maxAttempts: env.WORKER_MAX_ATTEMPTS,
      stageLatencyMs: env.STAGE_LATENCY_MS,
    }),
    payment: Object.freeze({ latencyMs: env.PAYMENT_LATENCY_MS, declineRate: env.PAYMENT_DECLINE_RATE }),
    supervisorPort: env.SUPERVISOR_PORT,
    supervisorPid: env.ORDERFLOW_SUPERVISOR_PID,
    operator: Object.freeze({
      localPort: env.OPERATOR_PORT,
      url: env.OPERATOR_URL ?? `http://127.0.0.1:${env.OPERATOR_PORT}`,
      namespace: env.OPERATOR_NAMESPACE,
      lease: Object.freeze({
        name: env.OPERATOR_LEASE_NAME,
        namespace: env.OPERATOR_LEASE_NAMESPACE,
        durationSeconds: env.OPERATOR_LEASE_DURATION_SECONDS,
        renewSeconds: env.OPERATOR_LEASE_RENEW_SECONDS,
      }),
      identity: env.POD_NAME,
    }),
  });
}
