import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually, freePort } from '../support/services';
import {
  PIPELINE_DATABASE_URL,
  startPipeline,
  startProcess,
  stopProcess,
  type Pipeline,
  type RunningProcess,
} from './harness';

const exec = promisify(execFile);
const MAIN = join(__dirname, '../../dist/cli/main.js');
let pipeline: Pipeline;
let api: RunningProcess;
let port: number;
const env = { JWT_SECRET: 'load-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz' };

beforeAll(async () => {
  pipeline = await startPipeline();
  port = await freePort();
  api = startProcess('api', [], { ...env, PORT: String(port) });
  await exec(process.execPath, [MAIN, 'seed'], {
    env: { ...process.env, DATABASE_URL: PIPELINE_DATABASE_URL },
  });
  await eventually(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, { what: 'API ready' });
}, 60_000);

afterAll(async () => {
  await stopProcess(api);
  await pipeline.stop();
}, 60_000);

describe('orderflow load', () => {
  it('places orders against the live platform and follows every one to its end', async () => {
    const { stdout } = await exec(
      process.execPath,
      [
        MAIN,
        'load',
        '--orders',
        '40',
        '--rate',
        '40',
        '--concurrency',
        '4',
        '--url',
        `http://127.0.0.1:${port}`,
        '--json',
      ],
      { timeout: 120_000 },
    );
    const summary = JSON.parse(stdout.trim());
    expect(summary).toMatchObject({
      orders: 40,
      accepted: 40,
      refused: 0,
      unfinished: 0,
      finished: { COMPLETED: 40 },
    });
    expect(summary.endToEndMs.p50).toBeGreaterThan(0);
    expect(summary.endToEndMs.p99).toBeGreaterThanOrEqual(summary.endToEndMs.p50);
  });

  it('reports declined payments as FAILED', async () => {
    const { stdout } = await exec(
      process.execPath,
      [
        MAIN,
        'load',
        '--orders',
        '5',
        '--rate',
        '20',
        '--token',
        'tok_decline',
        '--url',
        `http://127.0.0.1:${port}`,
        '--json',
      ],
      { timeout: 120_000 },
    );
    expect(JSON.parse(stdout.trim())).toMatchObject({ accepted: 5, finished: { FAILED: 5 }, unfinished: 0 });
  });
});
