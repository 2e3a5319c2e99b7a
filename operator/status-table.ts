import type { AutoscalerView } from './runner';

const condition = (view: AutoscalerView, type: string) =>
  view.status?.conditions.find((c) => c.type === type)?.status ?? '-';

function triggerText(view: AutoscalerView): string {
  return (view.status?.triggers ?? [])
    .map((t) =>
      t.value === undefined
        ? `${t.name}=error(${t.error ?? '?'})`
        : `${t.name}=${t.value}→${t.replicas}${t.source ? ` (${t.source})` : ''}`,
    )
    .join(', ');
}

/** `orderflow status` as a person reads it: one line per autoscaler, triggers with value → replicas. */
export function formatStatusTable(views: AutoscalerView[]): string {
  if (views.length === 0) return 'no WorkerAutoscalers\n';
  const rows = [
    [
      'AUTOSCALER',
      'TARGET',
      'MIN',
      'MAX',
      'CURRENT',
      'DESIRED',
      'ACTIVE',
      'READY',
      'TRIGGERS (value→replicas)',
    ],
    ...views.map((v) => [
      v.namespace === 'default' ? v.name : `${v.namespace}/${v.name}`,
      v.target,
      String(v.minReplicas),
      String(v.maxReplicas),
      String(v.status?.currentReplicas ?? '-'),
      String(v.status?.desiredReplicas ?? '-'),
      condition(v, 'Active'),
      condition(v, 'Ready'),
      triggerText(v),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return (
    rows
      .map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '))
      .join('\n') + '\n'
  );
}
