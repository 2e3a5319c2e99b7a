import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { eventually } from './services';

/** Debian's `prometheus` package (scripts/stack/prometheus.sh installs it). */
export const PROMETHEUS_BIN = '/usr/bin/prometheus';
export const PROMTOOL_BIN = '/usr/bin/promtool';

/** One job of Prometheus's `scrape_configs`; fields the helpers do not name pass through as written. */
export interface ScrapeConfig {
  job_name: string;
  metrics_path?: string;
  scrape_interval?: string;
  static_configs?: { targets: string[]; labels?: Record<string, string> }[];
  [field: string]: unknown;
}

/** A job scraping fixed `host:port` targets, each with its own labels (e.g. the role it runs). */
export function staticJob(jobName: string, targets: { address: string; labels?: Record<string, string> }[]) {
  return {
    job_name: jobName,
    static_configs: targets.map((t) => ({ targets: [t.address], labels: t.labels ?? {} })),
  } satisfies ScrapeConfig;
}

export interface PrometheusServer {
  /** Base URL of the HTTP API, e.g. http://127.0.0.1:19091. */
  url: string;
  /** What the server logged so far (it logs to stderr). */
  output(): string;
  /** SIGTERM, wait for the exit, delete the data directory. */
  stop(): Promise<void>;
}

/**
 * A real Prometheus on 127.0.0.1:`port` with the given scrape jobs and a throwaway data directory.
 * Resolves once /-/ready answers; rejects with the server's log if it exits first (a port in use).
 */
export async function startPrometheus(options: {
  port: number;
  scrapeConfigs: ScrapeConfig[];
  /** Global scrape and evaluation interval (default 1 s: tests want samples quickly). */
  scrapeIntervalSeconds?: number;
}): Promise<PrometheusServer> {
  const dir = await mkdtemp(join(tmpdir(), 'orderflow-prometheus-'));
  const interval = `${options.scrapeIntervalSeconds ?? 1}s`;
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(
    configFile,
    stringify({
      global: { scrape_interval: interval, evaluation_interval: interval },
      scrape_configs: options.scrapeConfigs,
    }),
  );
  const child = spawn(
    PROMETHEUS_BIN,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${options.port}`,
      '--storage.tsdb.retention.time=1h',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stdout!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${options.port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const state = await eventually(
      async () =>
        child.exitCode !== null || child.signalCode !== null
          ? 'exited'
          : (await fetch(`${url}/-/ready`)).ok && 'ready',
      { timeoutMs: 30_000, intervalMs: 200, what: `prometheus on ${url}` },
    );
    if (state === 'exited') throw new Error(`prometheus exited with ${child.exitCode ?? child.signalCode}`);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${log}`, { cause: err });
  }
  return { url, output: () => log, stop };
}

interface ActiveTarget {
  scrapePool: string;
  scrapeUrl: string;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
  labels: Record<string, string>;
}

/** GET one Prometheus API path (`/api/v1/...`) below a base URL that may itself carry a path (a proxy). */
async function api<T>(promUrl: string, path: string, params: Record<string, string> = {}): Promise<T> {
  const url = new URL(`${promUrl.replace(/\/+$/, '')}${path}`);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  const res = await fetch(url);
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`${path}: ${res.status} ${body.error ?? ''}`);
  return body.data;
}

/** The host of a target's scrape URL (a pod's IP in a cluster). */
const targetHost = (t: ActiveTarget) => new URL(t.scrapeUrl).hostname;

/**
 * Waits until Prometheus scrapes what it should, every target up, however it found them (static
 * targets here, service discovery in a cluster), and returns those targets. `count`: at least that
 * many active targets, all of them up. `hosts`: asked again on every poll, for a set that moves while
 * it is awaited (an autoscaler adding or removing pods): every host it names has a target, and every
 * target on those hosts is up; targets on other hosts (pods already gone, until the next discovery
 * refresh) are neither awaited nor returned.
 */
export async function waitForTargets(
  promUrl: string,
  options: ({ count: number } | { hosts: () => Promise<string[]> }) & { timeoutMs?: number },
): Promise<ActiveTarget[]> {
  let last: ActiveTarget[] = [];
  let wanted: string[] | undefined;
  const what = 'count' in options ? `${options.count} targets up` : 'a target up on every host';
  try {
    return await eventually(
      async () => {
        last = (await api<{ activeTargets: ActiveTarget[] }>(promUrl, '/api/v1/targets', { state: 'active' }))
          .activeTargets;
        if ('count' in options) {
          return last.length >= options.count && last.every((t) => t.health === 'up') ? last : undefined;
        }
        wanted = await options.hosts();
        const onWanted = last.filter((t) => wanted!.includes(targetHost(t)));
        const covered = wanted.every((h) => onWanted.some((t) => targetHost(t) === h));
        return wanted.length > 0 && covered && onWanted.every((t) => t.health === 'up')
          ? onWanted
          : undefined;
      },
      { timeoutMs: options.timeoutMs ?? 60_000, intervalMs: 500, what },
    );
  } catch (err) {
    const seen = last.map((t) => `${t.scrapeUrl} ${t.health} ${t.lastError}`.trim()).join('\n  ');
    const hosts = wanted ? `; hosts wanted: ${wanted.join(' ') || '(none)'}` : '';
    throw new Error(`${(err as Error).message}${hosts}; targets:\n  ${seen || '(none)'}`, { cause: err });
  }
}

/** The pieces of a Grafana dashboard JSON the evaluation reads. */
interface DashboardPanel {
  id?: number;
  title?: string;
  type?: string;
  targets?: { refId?: string; expr?: string; hide?: boolean }[];
  panels?: DashboardPanel[];
}
interface DashboardJson {
  panels?: DashboardPanel[];
  templating?: {
    list?: {
      name: string;
      type: string;
      includeAll?: boolean;
      allValue?: string | null;
      current?: { value?: string | string[] };
    }[];
  };
}

export interface DashboardQuery {
  panelId: number | undefined;
  panel: string;
  refId: string;
  /** The expression as written in the dashboard, template variables and all. */
  expr: string;
}

/** Every Prometheus query of every panel, rows' nested panels included; hidden queries are not run by Grafana either. */
export function dashboardQueries(dashboard: DashboardJson): DashboardQuery[] {
  const panels = (dashboard.panels ?? []).flatMap((p) => [p, ...(p.panels ?? [])]);
  return panels.flatMap((panel) =>
    (panel.targets ?? [])
      .filter((t) => typeof t.expr === 'string' && !t.hide)
      .map((t, i) => ({
        panelId: panel.id,
        panel: panel.title ?? '',
        refId: t.refId ?? String.fromCharCode(65 + i),
        expr: t.expr!,
      })),
  );
}

export interface VariableOptions {
  /** The data source's scrape interval, which Grafana's $__rate_interval is derived from (Grafana's default: 15). */
  scrapeIntervalSeconds?: number;
  /** $__interval: the panel's step (default: the scrape interval, the smallest Grafana uses). */
  intervalSeconds?: number;
  /** $__range: the dashboard's time range (default 30 minutes, this dashboard's default). */
  rangeSeconds?: number;
  /** Values of the dashboard's own variables, e.g. { namespace: 'orderflow' }; others take their All value. */
  variables?: Record<string, string>;
}

/**
 * Grafana's substitution of template variables in a query: the built-ins ($__rate_interval is
 * max($__interval + scrape interval, 4 x scrape interval), as Grafana computes it), then the
 * dashboard's variables from `variables`, else their current value, else their All value (`.*`).
 * All three spellings: $name, ${name} (with an optional :format) and [[name]].
 */
export function substituteVariables(expr: string, dashboard: DashboardJson, options: VariableOptions = {}) {
  const scrape = options.scrapeIntervalSeconds ?? 15;
  const interval = options.intervalSeconds ?? scrape;
  const range = options.rangeSeconds ?? 1800;
  const builtins: Record<string, string> = {
    __rate_interval: `${Math.max(interval + scrape, 4 * scrape)}s`,
    __interval: `${interval}s`,
    __interval_ms: String(interval * 1000),
    __range: `${range}s`,
    __range_s: String(range),
    __range_ms: String(range * 1000),
  };
  const declared = new Map((dashboard.templating?.list ?? []).map((v) => [v.name, v]));
  const valueOf = (name: string): string => {
    if (name in builtins) return builtins[name]!;
    if (options.variables && name in options.variables) return options.variables[name]!;
    const variable = declared.get(name);
    if (!variable) throw new Error(`unknown template variable $${name}`);
    const current = variable.current?.value;
    if (Array.isArray(current) && current.length && !current.includes('$__all'))
      return `(${current.join('|')})`;
    if (typeof current === 'string' && current && current !== '$__all') return current;
    return variable.allValue ?? '.*';
  };
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)/g, (_match, a, b, c) =>
    valueOf(a ?? b ?? c),
  );
}

export interface QueryResult extends DashboardQuery {
  /** The expression sent to Prometheus. */
  sent: string;
  /** Series in the instant vector (or 1 for a scalar). */
  series: number;
  /** At least one finite value: what a panel needs to draw something (NaN, e.g. a quantile of no observations, draws nothing). */
  hasData: boolean;
  error?: string;
}

/**
 * Runs every query of every panel of a Grafana dashboard as an instant query (/api/v1/query) against
 * a Prometheus, and says per panel and query whether it returned data. Independent of how that
 * Prometheus finds its targets: a local server, or one in a cluster behind a port-forward or proxy.
 */
export async function evaluateDashboard(
  promUrl: string,
  dashboard: DashboardJson,
  options: VariableOptions & { time?: Date } = {},
): Promise<QueryResult[]> {
  return Promise.all(
    dashboardQueries(dashboard).map(async (query): Promise<QueryResult> => {
      let sent = query.expr;
      try {
        sent = substituteVariables(query.expr, dashboard, options);
        const data = await api<{ resultType: string; result: unknown }>(promUrl, '/api/v1/query', {
          query: sent,
          ...(options.time ? { time: String(options.time.getTime() / 1000) } : {}),
        });
        const values =
          data.resultType === 'vector'
            ? (data.result as { value: [number, string] }[]).map((s) => s.value[1])
            : data.resultType === 'scalar'
              ? [(data.result as [number, string])[1]]
              : [];
        return {
          ...query,
          sent,
          series: values.length,
          hasData: values.some((v) => Number.isFinite(Number(v))),
        };
      } catch (err) {
        return { ...query, sent, series: 0, hasData: false, error: (err as Error).message };
      }
    }),
  );
}

/**
 * `promtool check metrics` on one /metrics text: the problems it prints (lint warnings such as a
 * missing _total suffix, and parse errors), one per line. An empty list means promtool accepted it.
 */
export async function checkMetrics(text: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = execFile(PROMTOOL_BIN, ['check', 'metrics'], (err, stdout, stderr) => {
      const problems = `${stdout}\n${stderr}`
        .split('\n')
        .map((line) => line.trim())
        .filter(Boolean);
      if (err && typeof err.code !== 'number') return reject(err);
      // promtool exits non-zero exactly when it prints something; keep the code if it ever does not.
      resolve(err && !problems.length ? [`promtool exited with ${String(err.code)}`] : problems);
    });
    child.stdin!.end(text);
  });
}
