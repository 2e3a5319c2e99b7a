import { api, ApiError } from '../api';
import { chartPaths, pushPoint, type Point } from '../chart';
import { fill, h, svg } from '../dom';
import { formatNumber, formatTime } from '../format';
import type { PageContext } from '../page';
import { errorBox, pageTitle } from '../ui';
import type { OpsOverview } from '../../../api/ops/types';

const POLL_MS = 2000;
const WIDTH = 300;
const HEIGHT = 70;

interface Line {
  label: string;
  key: string;
  kind: 'a' | 'b';
}

/** A small line chart of the last two minutes; its text alternative names the latest values. */
function chart(title: string, lines: Line[], history: Map<string, Point[]>): HTMLElement {
  const series = lines.map((l) => history.get(l.key) ?? []);
  const { max, paths } = chartPaths(series, { width: WIDTH, height: HEIGHT });
  const latest = lines.map((l, i) => `${l.label} ${formatNumber(series[i]!.at(-1)?.v ?? 0)}`);
  return h(
    'figure',
    { class: 'chart' },
    h(
      'figcaption',
      {},
      h('span', { class: 'chart-title' }, title),
      ' ',
      ...lines.map((l, i) => h('span', { class: `legend legend-${l.kind}` }, latest[i]!)),
      h('span', { class: 'muted' }, `top ${formatNumber(max)}`),
    ),
    svg(
      'svg',
      {
        viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
        role: 'img',
        'aria-label': `${title}, last 2 minutes, scale 0 to ${max}: ${latest.join(', ')}`,
        preserveAspectRatio: 'none',
      },
      svg('line', { x1: 0, y1: HEIGHT - 0.5, x2: WIDTH, y2: HEIGHT - 0.5, class: 'axis' }),
      ...paths.map((d, i) =>
        svg('path', {
          d: d || 'M0,0',
          class: `series series-${lines[i]!.kind}`,
          'vector-effect': 'non-scaling-stroke',
        }),
      ),
    ),
  );
}

function record(history: Map<string, Point[]>, o: OpsOverview): void {
  const t = Date.parse(o.at) || Date.now();
  const put = (key: string, v: number | null | undefined) => {
    if (typeof v === 'number') history.set(key, pushPoint(history.get(key) ?? [], { t, v }));
  };
  for (const s of o.stages) {
    put(`${s.stage}.ready`, s.ready);
    put(`${s.stage}.unacked`, s.unacked);
    put(`${s.stage}.ack`, s.ackRate);
    put(`${s.stage}.publish`, s.publishRate);
  }
  put('outbox', o.outbox.backlog);
  put('lag', o.kafka.lag);
  put('dead', o.deadLetters.count);
  for (const a of o.autoscalers ?? []) {
    put(`${a.name}.current`, a.currentReplicas);
    put(`${a.name}.desired`, a.desiredReplicas);
  }
}

const stat = (label: string, value: string) =>
  h('div', { class: 'stat' }, h('dt', {}, label), h('dd', {}, value));

function stagesSection(o: OpsOverview, history: Map<string, Point[]>): HTMLElement {
  return h(
    'section',
    { 'aria-labelledby': 'stages' },
    h('h2', { id: 'stages' }, 'Pipeline stages'),
    h(
      'div',
      { class: 'grid' },
      ...o.stages.map((s) =>
        h(
          'article',
          { class: 'card', 'data-stage': s.stage, 'aria-labelledby': `stage-${s.stage}` },
          h('h3', { id: `stage-${s.stage}` }, s.stage, ' ', h('small', { class: 'muted' }, s.queue)),
          h(
            'dl',
            { class: 'stats' },
            stat('Queue depth', String(s.ready)),
            stat('In flight', String(s.unacked)),
            stat('Consumers', String(s.consumers)),
            stat('Done per s', formatNumber(s.ackRate)),
          ),
          chart(
            'Waiting and in flight',
            [
              { label: 'waiting', key: `${s.stage}.ready`, kind: 'a' },
              { label: 'in flight', key: `${s.stage}.unacked`, kind: 'b' },
            ],
            history,
          ),
          chart(
            'Throughput per second',
            [
              { label: 'done', key: `${s.stage}.ack`, kind: 'a' },
              { label: 'arriving', key: `${s.stage}.publish`, kind: 'b' },
            ],
            history,
          ),
        ),
      ),
    ),
  );
}

function triggerText(t: NonNullable<OpsOverview['autoscalers']>[number]['triggers'][number]): string {
  if (t.error) return `${t.name}: error, ${t.error}`;
  const value = t.value === undefined ? 'no reading' : formatNumber(t.value);
  return `${t.name} = ${value}${t.replicas === undefined ? '' : ` → ${t.replicas} replicas`}${t.source ? ` (${t.source})` : ''}`;
}

function autoscalersSection(o: OpsOverview, history: Map<string, Point[]>): HTMLElement {
  const heading = h('h2', { id: 'autoscalers' }, 'Autoscalers');
  if (!o.autoscalers)
    return h(
      'section',
      { 'aria-labelledby': 'autoscalers' },
      heading,
      h('p', { class: 'notice' }, 'The operator is not answering, so its autoscalers are unknown.'),
    );
  return h(
    'section',
    { 'aria-labelledby': 'autoscalers' },
    heading,
    h(
      'div',
      { class: 'scroll' },
      h(
        'table',
        { class: 'table stack' },
        h('caption', { class: 'visually-hidden' }, 'Every autoscaler with its replicas and triggers'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col' }, 'Autoscaler'),
            h('th', { scope: 'col', class: 'num' }, 'Current'),
            h('th', { scope: 'col', class: 'num' }, 'Desired'),
            h('th', { scope: 'col', class: 'num' }, 'Min–max'),
            h('th', { scope: 'col' }, 'Triggers'),
          ),
        ),
        h(
          'tbody',
          {},
          ...o.autoscalers.map((a) =>
            h(
              'tr',
              { 'data-autoscaler': a.name },
              h('th', { scope: 'row' }, a.name, h('small', { class: 'muted block' }, a.target)),
              h(
                'td',
                { class: 'num', 'data-field': 'current', 'data-label': 'current' },
                String(a.currentReplicas),
              ),
              h(
                'td',
                { class: 'num', 'data-field': 'desired', 'data-label': 'desired' },
                String(a.desiredReplicas),
              ),
              h('td', { class: 'num', 'data-label': 'min–max' }, `${a.minReplicas}–${a.maxReplicas}`),
              h('td', {}, h('ul', { class: 'plain' }, ...a.triggers.map((t) => h('li', {}, triggerText(t))))),
            ),
          ),
        ),
      ),
    ),
    h(
      'div',
      { class: 'grid' },
      ...o.autoscalers.map((a) =>
        h(
          'div',
          { class: 'card' },
          chart(
            `${a.name} replicas`,
            [
              { label: 'current', key: `${a.name}.current`, kind: 'a' },
              { label: 'desired', key: `${a.name}.desired`, kind: 'b' },
            ],
            history,
          ),
        ),
      ),
    ),
  );
}

function backlogSection(o: OpsOverview, history: Map<string, Point[]>): HTMLElement {
  return h(
    'section',
    { 'aria-labelledby': 'backlog' },
    h('h2', { id: 'backlog' }, 'Backlog before the queues'),
    h(
      'div',
      { class: 'grid' },
      h(
        'div',
        { class: 'card' },
        chart('Outbox events not yet in Kafka', [{ label: 'backlog', key: 'outbox', kind: 'a' }], history),
      ),
      h(
        'div',
        { class: 'card' },
        o.kafka.lag === null
          ? h('p', {}, 'Kafka lag: not known (the operator has not read it).')
          : chart('Kafka consumer lag (dispatcher)', [{ label: 'lag', key: 'lag', kind: 'a' }], history),
      ),
    ),
  );
}

function deadLettersSection(o: OpsOverview): HTMLElement {
  const { count, recent } = o.deadLetters;
  return h(
    'section',
    { 'aria-labelledby': 'dead' },
    h('h2', { id: 'dead' }, `Dead letters: ${count}`),
    recent.length
      ? h(
          'div',
          { class: 'scroll' },
          h(
            'table',
            { class: 'table stack' },
            h('caption', { class: 'visually-hidden' }, 'The most recent dead letters and why'),
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                h('th', { scope: 'col' }, 'Message'),
                h('th', { scope: 'col' }, 'Reason'),
                h('th', { scope: 'col' }, 'From'),
              ),
            ),
            h(
              'tbody',
              {},
              ...recent.map((d) =>
                h(
                  'tr',
                  {},
                  h('td', {}, d.messageId ?? '—'),
                  h('td', {}, d.reason ?? 'no reason given'),
                  h('td', {}, d.source ?? '—'),
                ),
              ),
            ),
          ),
        )
      : h('p', {}, 'No message has been dead-lettered.'),
  );
}

export function opsPage(ctx: PageContext): void {
  const updated = h('p', { class: 'muted' }, 'Loading…');
  const error = h('div');
  const content = h('div');
  ctx.main.append(pageTitle('Operations'), updated, error, content);
  const history = new Map<string, Point[]>();
  let timer: number | undefined;
  const poll = async () => {
    try {
      const overview = await api<OpsOverview>('GET', '/v1/ops/overview', { signal: ctx.signal });
      record(history, overview);
      fill(error);
      updated.textContent = `Updated ${formatTime(overview.at)}; every 2 seconds, charts show the last 2 minutes.`;
      fill(
        content,
        stagesSection(overview, history),
        autoscalersSection(overview, history),
        backlogSection(overview, history),
        deadLettersSection(overview),
      );
    } catch (err) {
      if (ctx.signal.aborted) return;
      const refused = err instanceof ApiError && (err.status === 401 || err.status === 403);
      fill(
        error,
        errorBox(
          err,
          refused ? 'The API refused the operations view:' : 'The operations view could not be updated:',
        ),
      );
      if (refused) {
        updated.textContent = '';
        return; // no point asking again: the answer depends on the account, not on time
      }
    }
    if (!ctx.signal.aborted) timer = window.setTimeout(() => void poll(), POLL_MS);
  };
  ctx.signal.addEventListener('abort', () => window.clearTimeout(timer));
  void poll();
}
