import type { Command } from 'commander';
import { DEMO_CUSTOMER, DEMO_PASSWORD } from '../demo-data';
import { runLoad } from '../load';

const positive = (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`expected a positive number, got ${value}`);
  return n;
};

export function registerLoad(program: Command): void {
  program
    .command('load')
    .description('place orders against a running platform and follow them to their end')
    .option('--orders <n>', 'orders to place', positive, 200)
    .option('--rate <r>', 'orders per second', positive, 20)
    .option('--concurrency <c>', 'requests in flight', positive, 8)
    .option('--url <url>', 'API base URL', 'http://127.0.0.1:8080')
    .option('--email <email>', 'customer account', DEMO_CUSTOMER)
    .option('--password <password>', 'its password', DEMO_PASSWORD)
    .option('--merchant <id>', 'store to order from (default: the best stocked)')
    .option('--token <token>', 'payment token (tok_decline, tok_flaky, or any other)', 'tok_visa')
    .option('--timeout <seconds>', 'how long to wait for the last orders to finish', positive, 120)
    .option('--json', 'print only a JSON summary')
    .action(
      async (options: {
        orders: number;
        rate: number;
        concurrency: number;
        url: string;
        email: string;
        password: string;
        token: string;
        timeout: number;
        merchant?: string;
        json?: boolean;
      }) => {
        const tty = process.stdout.isTTY && !options.json;
        const summary = await runLoad(
          {
            ...options,
            orders: Math.floor(options.orders),
            concurrency: Math.floor(options.concurrency),
            timeoutSeconds: options.timeout,
          },
          (line, done) => {
            if (options.json) return;
            if (tty) process.stdout.write(`\r\x1b[2K${line}${done ? '\n' : ''}`);
            else if (done) process.stdout.write(`${line}\n`);
          },
        );
        if (options.json) {
          process.stdout.write(`${JSON.stringify(summary)}\n`);
        } else {
          process.stdout.write(
            `\n${summary.accepted}/${summary.orders} accepted in ${summary.seconds} s (${summary.acceptedPerSecond}/s), ` +
              `${summary.refused} refused, ${summary.unfinished} unfinished; ${summary.completedPerSecond} completed/s\n` +
              `finished: ${JSON.stringify(summary.finished)}\n` +
              `accept latency ms ${JSON.stringify(summary.acceptLatencyMs)}; end-to-end ms ${JSON.stringify(summary.endToEndMs)}\n`,
          );
        }
        if (summary.unfinished > 0 || summary.refused > 0) process.exitCode = 1;
      },
    );
}
