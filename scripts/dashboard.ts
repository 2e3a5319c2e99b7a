/**
 * The Grafana dashboard the chart ships, `charts/orderflow/dashboards/orderflow.json`, built from typed
 * code with Grafana's Foundation SDK. `npm run dashboard` writes the file; `npm run dashboard -- --check`
 * exits 1 when the committed file is not what this code builds (scripts/dashboard.test.ts checks the
 * same in `npm test`). Edit the panels here, never the JSON.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ReduceDataOptionsBuilder,
  SortOrder,
  TooltipDisplayMode,
  VizLegendOptionsBuilder,
  VizTooltipOptionsBuilder,
  LegendDisplayMode,
  LegendPlacement,
  BigValueColorMode,
  BigValueGraphMode,
} from '@grafana/grafana-foundation-sdk/common';
import {
  DashboardBuilder,
  DatasourceVariableBuilder,
  RowBuilder,
  type Dashboard,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanelBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TimeseriesPanelBuilder } from '@grafana/grafana-foundation-sdk/timeseries';

export const DASHBOARD_FILE = join(__dirname, '../charts/orderflow/dashboards/orderflow.json');

/** Every panel and query reads from the data source the viewer picks in the `datasource` variable. */
const datasource = { type: 'prometheus', uid: '${datasource}' };

interface Query {
  expr: string;
  legend: string;
}

interface Panel {
  id: number;
  title: string;
  /** Grafana unit id: reqps, ops, s, short, none. */
  unit: string;
  queries: Query[];
  description?: string;
  /** Grid width out of 24 (default 12); panels flow left to right, eight rows high. */
  width?: number;
  /** A time series unless said otherwise. */
  kind?: 'stat';
}

interface Row {
  id: number;
  title: string;
  panels: Panel[];
}

const q = (expr: string, legend: string): Query => ({ expr, legend });
const rate = (metric: string) => `rate(${metric}[$__rate_interval])`;
const quantile = (phi: number, by: string, bucket: string) =>
  `histogram_quantile(${phi}, sum by (${by}) (${rate(bucket)}))`;

/** API latency is what customers wait for: the /v1 routes, not probes and /metrics scrapes. */
const apiBuckets = 'orderflow_http_request_duration_seconds_bucket{route=~"/v1/.*"}';

const ROWS: Row[] = [
  {
    id: 1,
    title: 'API',
    panels: [
      {
        id: 2,
        title: 'API request rate by route and status',
        unit: 'reqps',
        queries: [
          q(
            'sum by (route, status) (rate(orderflow_http_requests_total[$__rate_interval]))',
            '{{status}} {{route}}',
          ),
        ],
      },
      {
        id: 3,
        title: 'API latency',
        unit: 's',
        description: 'Requests to the /v1 routes; probes and Prometheus scrapes of /metrics are left out.',
        queries: [
          q(quantile(0.5, 'le', apiBuckets), 'p50'),
          q(quantile(0.95, 'le', apiBuckets), 'p95'),
          q(quantile(0.99, 'le', apiBuckets), 'p99'),
        ],
      },
    ],
  },
  {
    id: 4,
    title: 'Orders',
    panels: [
      {
        id: 5,
        title: 'Orders by status',
        unit: 'ops',
        description:
          'Orders accepted by POST /v1/orders (PENDING) and orders reaching each terminal status, per second.',
        queries: [
          q(
            'sum by (outcome) (rate(orderflow_orders_created_total[$__rate_interval]))',
            'created: {{outcome}}',
          ),
          q(
            'sum by (status) (rate(orderflow_order_end_to_end_seconds_count[$__rate_interval]))',
            '{{status}}',
          ),
        ],
      },
      {
        id: 6,
        title: 'Order end-to-end latency (created to terminal)',
        unit: 's',
        queries: [
          q(quantile(0.95, 'status, le', 'orderflow_order_end_to_end_seconds_bucket'), 'p95 {{status}}'),
          q(quantile(0.5, 'status, le', 'orderflow_order_end_to_end_seconds_bucket'), 'p50 {{status}}'),
        ],
      },
    ],
  },
  {
    id: 7,
    title: 'Pipeline stages',
    panels: [
      {
        id: 8,
        title: 'Stage throughput by outcome',
        unit: 'ops',
        queries: [
          q(
            'sum by (stage, outcome) (rate(orderflow_stage_processed_total[$__rate_interval]))',
            '{{stage}} {{outcome}}',
          ),
        ],
      },
      {
        id: 9,
        title: 'Stage latency (p95)',
        unit: 's',
        queries: [q(quantile(0.95, 'stage, le', 'orderflow_stage_duration_seconds_bucket'), '{{stage}}')],
      },
      {
        id: 10,
        title: 'Outbox backlog',
        unit: 'short',
        queries: [q('max(orderflow_outbox_backlog)', 'unpublished outbox rows')],
      },
      {
        id: 11,
        title: 'Stage retries and dead letters',
        unit: 'ops',
        queries: [
          q('sum by (stage) (rate(orderflow_stage_retries_total[$__rate_interval]))', 'retried {{stage}}'),
          q(
            'sum by (stage) (rate(orderflow_stage_dead_lettered_total[$__rate_interval]))',
            'dead-lettered {{stage}}',
          ),
        ],
      },
    ],
  },
  {
    id: 12,
    title: 'Backlog (what the autoscaler reads)',
    panels: [
      {
        id: 13,
        title: 'Kafka consumer lag',
        unit: 'short',
        description:
          'Lag of consumer group orderflow-dispatcher on orderflow.order-events, as measured by the operator.',
        queries: [
          q(
            'max by (autoscaler, trigger) (orderflow_autoscaler_trigger_value{trigger=~"kafka:.*"})',
            '{{trigger}}',
          ),
        ],
      },
      {
        id: 14,
        title: 'RabbitMQ queue depth',
        unit: 'short',
        description:
          'Ready + unacknowledged messages per stage queue, as measured by the operator (its publish-rate triggers, in messages per second, are left out).',
        queries: [
          // `rabbitmq:<queue>` is a depth trigger; `rabbitmq:<queue>/publish-rate` is a rate.
          q(
            'max by (autoscaler, trigger) (orderflow_autoscaler_trigger_value{trigger=~"rabbitmq:[^/]+"})',
            '{{trigger}}',
          ),
        ],
      },
    ],
  },
  {
    id: 15,
    title: 'Autoscaler',
    panels: [
      {
        id: 16,
        title: 'Desired vs current replicas',
        unit: 'short',
        queries: [
          q('max by (autoscaler) (orderflow_autoscaler_desired_replicas)', 'desired {{autoscaler}}'),
          q('max by (autoscaler) (orderflow_autoscaler_current_replicas)', 'current {{autoscaler}}'),
        ],
      },
      {
        id: 17,
        title: 'Scale events',
        unit: 'short',
        queries: [
          q(
            'sum by (autoscaler, direction) (increase(orderflow_autoscaler_scale_events_total[$__rate_interval]))',
            '{{direction}} {{autoscaler}}',
          ),
        ],
      },
      {
        id: 18,
        title: 'Reconcile duration (p95)',
        unit: 's',
        width: 10,
        queries: [
          q(
            quantile(0.95, 'autoscaler, le', 'orderflow_autoscaler_reconcile_duration_seconds_bucket'),
            '{{autoscaler}}',
          ),
        ],
      },
      {
        id: 19,
        title: 'Metric source errors',
        unit: 'ops',
        width: 10,
        queries: [
          q(
            'sum by (autoscaler, trigger) (rate(orderflow_autoscaler_source_errors_total[$__rate_interval]))',
            '{{autoscaler}} {{trigger}}',
          ),
        ],
      },
      {
        id: 20,
        kind: 'stat',
        title: 'Operator leader',
        unit: 'none',
        width: 4,
        description:
          '1 on the replica that holds the Lease (by instance, which every scrape setup labels); exactly one should show 1.',
        queries: [q('orderflow_autoscaler_leader', '{{instance}}')],
      },
    ],
  },
];

const targets = (queries: Query[]) =>
  queries.map((query, i) =>
    new DataqueryBuilder()
      .datasource(datasource)
      .refId(String.fromCharCode(65 + i))
      .expr(query.expr)
      .legendFormat(query.legend),
  );

/** What every panel shares; `description` only where there is one, as Grafana writes it. */
function common<B extends TimeseriesPanelBuilder | StatPanelBuilder>(builder: B, panel: Panel): B {
  builder
    .id(panel.id)
    .title(panel.title)
    .datasource(datasource)
    .height(8)
    .span(panel.width ?? 12)
    .unit(panel.unit)
    .targets(targets(panel.queries));
  if (panel.description) builder.description(panel.description);
  return builder;
}

const timeseries = (panel: Panel) =>
  common(new TimeseriesPanelBuilder(), panel)
    .lineWidth(1)
    .fillOpacity(10)
    .legend(
      new VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(LegendDisplayMode.Table)
        .placement(LegendPlacement.Bottom)
        .calcs(['lastNotNull', 'max']),
    )
    .tooltip(new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Multi).sort(SortOrder.Descending));

const stat = (panel: Panel) =>
  common(new StatPanelBuilder(), panel)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).fields('').values(false))
    .colorMode(BigValueColorMode.Value)
    .graphMode(BigValueGraphMode.Area);

export function orderflowDashboard(): Dashboard {
  const builder = new DashboardBuilder('Orderflow')
    .uid('orderflow-overview')
    .description(
      'Orderflow: API, order pipeline, Kafka lag, RabbitMQ depth and the WorkerAutoscaler operator',
    )
    .tags(['orderflow'])
    .timezone('browser')
    .editable()
    .version(1)
    .refresh('10s')
    .time({ from: 'now-30m', to: 'now' })
    .withVariable(new DatasourceVariableBuilder('datasource').label('Data source').type('prometheus'));
  for (const row of ROWS) {
    builder.withRow(new RowBuilder(row.title).id(row.id).collapsed(false));
    for (const panel of row.panels)
      builder.withPanel(panel.kind === 'stat' ? stat(panel) : timeseries(panel));
  }
  return builder.build();
}

/** The dashboard as the committed file holds it: JSON formatted by the repository's Prettier settings. */
export async function renderDashboard(): Promise<string> {
  const prettier = await import('prettier');
  const options = await prettier.resolveConfig(DASHBOARD_FILE);
  return prettier.format(JSON.stringify(orderflowDashboard(), null, 2), {
    ...options,
    filepath: DASHBOARD_FILE,
  });
}

async function main(): Promise<void> {
  const rendered = await renderDashboard();
  if (process.argv.includes('--check')) {
    if (readFileSync(DASHBOARD_FILE, 'utf8') !== rendered) {
      process.stderr.write(`${DASHBOARD_FILE} is out of date: run npm run dashboard\n`);
      process.exit(1);
    }
    return;
  }
  writeFileSync(DASHBOARD_FILE, rendered);
  process.stdout.write(`wrote ${DASHBOARD_FILE}\n`);
}

if (require.main === module) void main();
