/// <reference lib="dom" />
// Some functions here run in the page (page.evaluate), where the DOM is.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { parseDocument } from 'yaml';
import { eventually, freePort, freshDatabase, runOrderflow } from '../support/services';

const ROOT = join(__dirname, '../..');
export const ARTIFACTS = join(ROOT, 'test-artifacts', 'console');
export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

/** Debian's chromium, installed by scripts/stack/chromium.sh if missing. */
export function chromiumPath(): string {
  return execFileSync('bash', [join(ROOT, 'scripts/stack/chromium.sh'), 'ensure'], {
    encoding: 'utf8',
  }).trim();
}

/**
 * The examples of k8s/examples, quicker: a 1 s poll, few messages per worker replica, at most 3
 * replicas (two cores), and a 5 s scale-down window, so a short load shows a rise and a fall.
 */
function writeAutoscalers(): string {
  const dir = mkdtempSync(join(tmpdir(), 'orderflow-console-autoscalers-'));
  const examples = join(ROOT, 'k8s/examples');
  for (const file of readdirSync(examples).filter((f) => f.endsWith('.yaml'))) {
    const doc = parseDocument(readFileSync(join(examples, file), 'utf8'));
    const kafka = doc.getIn(['spec', 'triggers', 0, 'type']) === 'kafka';
    doc.setIn(['spec', 'pollingIntervalSeconds'], 1);
    doc.setIn(['spec', 'maxReplicas'], 3);
    doc.setIn(['spec', 'behavior', 'scaleDown', 'stabilizationWindowSeconds'], 5);
    doc.setIn(
      ['spec', 'triggers', 0, 'metadata', kafka ? 'lagPerReplica' : 'messagesPerReplica'],
      kafka ? 100 : 5,
    );
    writeFileSync(join(dir, file), doc.toString());
  }
  return dir;
}

export interface Platform {
  url: string;
  env: Record<string, string>;
  output(): string;
  stop(): Promise<void>;
}

/**
 * `orderflow up --no-stack` as a person runs it (every role, the local operator), on a fresh database
 * and free ports. Every stage takes 100 ms per task with one task per worker, so a small load makes a
 * backlog the operator answers with more workers.
 */
export async function startPlatform(): Promise<Platform> {
  const [port, supervisorPort, operatorPort] = [await freePort(), await freePort(), await freePort()];
  const env = {
    DATABASE_URL: await freshDatabase('orderflow_console_test'),
    PORT: String(port),
    SUPERVISOR_PORT: String(supervisorPort),
    OPERATOR_PORT: String(operatorPort),
    STAGE_LATENCY_MS: '100',
    WORKER_PREFETCH: '1',
    LOG_LEVEL: 'warn',
  };
  const run = runOrderflow(['up', '--no-stack', '--autoscalers', writeAutoscalers()], env);
  const url = `http://127.0.0.1:${port}`;
  await eventually(() => run.output().includes('Orderflow is running'), {
    what: 'orderflow up',
    timeoutMs: 60_000,
  }).catch((err: Error) => {
    run.child.kill('SIGKILL');
    throw new Error(`${err.message}; it printed:\n${run.output().slice(-4000)}`);
  });
  await eventually(async () => (await fetch(`${url}/readyz`)).ok, { what: 'API ready', timeoutMs: 30_000 });
  return { url, env, output: run.output, stop: () => stopChild(run.child, run.exited) };
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

/** axe-core in the page: serious and critical violations, each with the elements it names. */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8') });
  const violations = await page.evaluate(async () => {
    const { axe } = globalThis as unknown as {
      axe: {
        run(
          context: unknown,
          options: unknown,
        ): Promise<{
          violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[];
        }>;
      };
    };
    const result = await axe.run(globalThis, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ ...v, nodes: v.nodes.map((n) => n.target.join(' ')) }));
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).join(', ')}`);
}

/**
 * A full-page screenshot at desktop width and one at phone width, kept as test artifacts; `check`
 * runs at each width after its picture is taken.
 */
export async function screenshots(
  page: Page,
  name: string,
  check: (phone: boolean) => Promise<void> = async () => undefined,
): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  await check(false);
  await page.setViewportSize(PHONE);
  try {
    await page.screenshot({ path: join(ARTIFACTS, `${name}-phone.png`), fullPage: true });
    await check(true);
  } finally {
    await page.setViewportSize(DESKTOP);
  }
}

/**
 * What sticks out past the right edge of the window, which a phone user would have to scroll
 * sideways to read: up to three elements, each as tag.class, or nothing when the page fits.
 */
export async function sidewaysOverflow(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth <= width) return [];
    return Array.from(document.body.querySelectorAll('*'))
      .filter((el) => el.getBoundingClientRect().right > width + 1)
      .slice(0, 3)
      .map((el) => `${el.tagName.toLowerCase()}.${Array.from(el.classList).join('.')}`);
  });
}

/**
 * The page as a person meets it, at desktop width and at phone width: no serious accessibility
 * problem at either, nothing to scroll sideways on the phone, and pictures of both.
 */
export async function checkPage(page: Page, name: string): Promise<void> {
  await screenshots(page, name, async (phone) => {
    if (phone) expect(await sidewaysOverflow(page)).toEqual([]);
    expect(await accessibilityViolations(page)).toEqual([]);
  });
}
