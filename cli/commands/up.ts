import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../../lib/config';
import { createDataSource } from '../../lib/adapters/postgres/data-source';
import { declareBrokers } from '../../lib/brokers';
import { ORDER_EVENTS_TOPIC } from '../../lib/messaging';
import { createLogger } from '../../lib/telemetry/logger';
import { maskSecrets } from '../../lib/mask';
import { DEMO_ADMIN, DEMO_CUSTOMER, DEMO_MERCHANT, DEMO_PASSWORD, seedDemoData } from '../demo-data';
import { projectRoot, stackScript } from '../paths';
import { configOrExit } from '../../lib/process';
import { localRoles } from '../roles';
import { startControlServer } from '../supervisor/control';
import { Supervisor } from '../supervisor/supervisor';

const stack = (command: 'up' | 'down' | 'check') =>
  spawnSync('bash', [stackScript(), command], { stdio: command === 'check' ? 'ignore' : 'inherit' })
    .status === 0;

export function registerUp(program: Command): void {
  program
    .command('up')
    .description(
      'bring up PostgreSQL, RabbitMQ and Kafka, migrate, seed, and run every Orderflow process under a supervisor',
    )
    .option('--no-stack', 'use services that are already running (DATABASE_URL, KAFKA_BROKERS, RABBITMQ_URL)')
    .option('--keep-stack', 'leave the local services running on exit')
    .option('--no-operator', 'fixed replicas: do not run the operator in local mode')
    .option('--autoscalers <path>', 'WorkerAutoscaler YAML for the local operator (default: k8s/examples)')
    .action(
      async (options: { stack: boolean; keepStack?: boolean; operator: boolean; autoscalers?: string }) => {
        const config = configOrExit();
        let startedStack = false;
        if (options.stack) {
          startedStack = !stack('check');
          if (!stack('up')) throw new Error('the local stack did not come up (see the messages above)');
        }
        const dataSource = createDataSource({
          url: config.database.url,
          poolSize: 2,
          applicationName: 'orderflow-up',
        });
        await dataSource.initialize();
        const applied = await dataSource.runMigrations({ transaction: 'each' });
        process.stdout.write(
          `migrations: ${applied.length ? applied.map((m) => m.name).join(', ') : 'up to date'}\n`,
        );
        await seedDemoData(dataSource);
        await dataSource.destroy();
        // Only problems: the line below says what was done, and the terminal is the user's.
        const { topicCreated } = await declareBrokers(config, createLogger({ role: 'up', level: 'warn' }));
        process.stdout.write(
          `brokers: RabbitMQ queues declared, Kafka topic ${ORDER_EVENTS_TOPIC} ${topicCreated ? `created (${config.pipeline.topicPartitions} partitions)` : 'present'}\n`,
        );

        const jwtSecret = devJwtSecret(config);
        const supervisor = new Supervisor();
        const control = await startControlServer(supervisor, {
          host: '127.0.0.1',
          port: config.supervisorPort,
        });
        const roles = localRoles(config, {
          entry: [process.execPath, process.argv[1] ?? ''],
          env: jwtSecret ? { JWT_SECRET: jwtSecret } : {},
          operator: options.operator
            ? { supervisorUrl: `http://127.0.0.1:${control.port}`, autoscalers: options.autoscalers }
            : undefined,
        });
        for (const role of roles) supervisor.add(role);
        printTable(supervisor, config, jwtSecret, control.port);

        let stopping = false;
        const stop = async (signal: string) => {
          if (stopping) return;
          stopping = true;
          process.stdout.write(`\n${signal}: stopping every process...\n`);
          await control.close();
          await supervisor.stop();
          if (startedStack && !options.keepStack) stack('down');
          process.stdout.write('stopped.\n');
          process.exit(0);
        };
        process.on('SIGINT', () => void stop('SIGINT'));
        process.on('SIGTERM', () => void stop('SIGTERM'));
      },
    );
}

/**
 * In development without JWT_SECRET every API process needs the same secret, and a restart should not
 * log everyone out: one is generated once and kept in the ignored .stack folder.
 */
function devJwtSecret(config: Config): string | undefined {
  if (config.jwt.algorithm !== 'HS256' || config.jwt.secret || config.env === 'production') return undefined;
  const dir = join(projectRoot(), '.stack');
  const file = join(dir, 'dev-jwt-secret');
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600 });
  }
  return readFileSync(file, 'utf8').trim();
}

function printTable(
  supervisor: Supervisor,
  config: Config,
  jwtSecret: string | undefined,
  controlPort: number,
): void {
  const rows = supervisor
    .list()
    .map((i) => `  ${i.name.padEnd(18)} pid ${String(i.pid ?? '-').padEnd(8)} ${i.description}`);
  const api = `http://${config.http.host}:${config.http.port}`;
  const lines = [
    '',
    'Orderflow is running:',
    `  web console       ${api}/  (open it in a browser; demo accounts below)`,
    '',
    ...rows,
    '',
    `  API docs          ${api}/docs`,
    `  supervisor        http://127.0.0.1:${controlPort}/v1/roles  (PUT /v1/roles/<role>/replicas to scale)`,
    ...(supervisor.roleNames().includes('operator')
      ? [`  autoscalers       npx orderflow status  (the operator scales the workers from the backlog)`]
      : []),
    `  PostgreSQL        ${maskSecrets(config.database.url)}`,
    `  Kafka             ${config.kafka.brokers.join(',')}`,
    `  RabbitMQ UI       ${maskSecrets(config.rabbitmq.managementUrl)}`,
    '',
    `  demo customer     ${DEMO_CUSTOMER} / ${DEMO_PASSWORD}`,
    `  demo merchant     ${DEMO_MERCHANT} / ${DEMO_PASSWORD}`,
    `  demo admin        ${DEMO_ADMIN} / ${DEMO_PASSWORD}  (the console's Operations page)`,
    ...(jwtSecret ? [`  dev JWT secret    ${jwtSecret}  (kept in .stack/dev-jwt-secret)`] : []),
    '',
    `  try: curl -s ${api}/v1/auth/login -H 'content-type: application/json' \\`,
    `         -d '{"email":"${DEMO_CUSTOMER}","password":"${DEMO_PASSWORD}"}'`,
    '',
    'Ctrl-C stops everything.',
    '',
  ];
  process.stdout.write(lines.join('\n'));
}
