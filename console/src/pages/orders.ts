import { allPages, api, ApiError, type HistoryEntry, type Order, type Page, type Product } from '../api';
import { announce, fill, h } from '../dom';
import { formatCents, formatTime } from '../format';
import type { PageContext } from '../page';
import { problemMessage } from '../problem';
import { session } from '../session';
import { followEvents, StreamRefused } from '../sse';
import {
  canCancel,
  currentStatus,
  isTerminal,
  mergeChanges,
  statusLabel,
  timelineSteps,
  type StatusChange,
} from '../timeline';
import { busy, errorBox, errorSlot, link, ordersTable, pageTitle, statusBadge } from '../ui';

/** A refused stream as an ApiError, so it is shown like any other refusal. */
class StreamError extends ApiError {
  constructor(err: StreamRefused) {
    super(problemMessage(err.status, err.body));
  }
}

export async function orderHistoryPage(ctx: PageContext): Promise<void> {
  const error = errorSlot();
  const tbody = h('tbody');
  const more = h('button', { type: 'button', class: 'secondary' }, 'Show older orders');
  const table = ordersTable('Your orders, newest first', tbody);
  ctx.main.append(pageTitle('Your orders'), error.el, table, more);
  let cursor: string | null = null;
  const load = async () => {
    const query: string = `limit=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page = await api<Page<Order>>('GET', `/v1/orders?${query}`, { signal: ctx.signal });
    tbody.append(
      ...page.items.map((o) =>
        h(
          'tr',
          {},
          h('td', {}, formatTime(o.createdAt)),
          h('td', {}, statusBadge(o.status)),
          h('td', { class: 'num' }, formatCents(o.totalCents)),
          h(
            'td',
            {},
            link(`/orders/${o.id}`, `Order ${o.id.slice(0, 8)}`, {
              'aria-label': `Order ${o.id.slice(0, 8)}, ${o.status}`,
            }),
          ),
        ),
      ),
    );
    cursor = page.nextCursor;
    more.hidden = !cursor;
    if (!tbody.children.length)
      table.replaceWith(h('p', {}, 'No orders yet. ', link('/stores', 'Browse the stores')));
    announce(`${page.items.length} orders shown`);
  };
  more.addEventListener('click', () => void busy(more, () => load().catch((err) => error.show(err))));
  try {
    await load();
  } catch (err) {
    error.show(err, 'Your orders could not be loaded:');
    table.remove();
    more.hidden = true;
  }
}

interface StatusEvent {
  orderId: string;
  status: string;
  fromStatus: string | null;
  reason: string | null;
  at: string;
}

function drawTimeline(list: HTMLElement, changes: StatusChange[]): void {
  fill(
    list,
    ...timelineSteps(changes).map((step) =>
      h(
        'li',
        { class: `step step-${step.state}`, 'aria-current': step.state === 'current' ? 'step' : undefined },
        h(
          'span',
          { class: 'step-name' },
          statusLabel(step.status),
          h('span', { class: 'visually-hidden' }, ` (${step.state === 'ahead' ? 'not yet' : step.state})`),
        ),
        step.at ? h('time', { datetime: step.at }, formatTime(step.at)) : null,
        step.reason && step.state === 'failed' ? h('p', { class: 'reason' }, `Reason: ${step.reason}`) : null,
      ),
    ),
  );
}

export async function orderPage(ctx: PageContext): Promise<void> {
  const id = ctx.params.id!;
  ctx.main.append(pageTitle(`Order ${id.slice(0, 8)}`));
  let order: Order;
  let changes: StatusChange[];
  try {
    const [found, history] = await Promise.all([
      api<Order>('GET', `/v1/orders/${id}`, { signal: ctx.signal }),
      api<{ entries: HistoryEntry[] }>('GET', `/v1/orders/${id}/history`, { signal: ctx.signal }),
    ]);
    order = found;
    changes = history.entries.map((e) => ({
      status: e.toStatus,
      fromStatus: e.fromStatus,
      reason: e.reason,
      at: e.at,
    }));
  } catch (err) {
    ctx.main.append(errorBox(err, 'This order cannot be shown:'));
    return;
  }
  const names = new Map<string, string>();
  await allPages<Product>(`/v1/merchants/${order.merchantId}/products`, ctx.signal)
    .then((products) => products.forEach((p) => names.set(p.id, p.name)))
    .catch(() => undefined);

  const status = h('p', { class: 'current-status', role: 'status' });
  const connection = h('p', { class: 'muted', 'aria-live': 'polite' });
  const timeline = h('ol', { class: 'timeline', 'aria-label': 'Order progress', 'aria-live': 'polite' });
  const actions = h('div', { class: 'actions' });
  const error = errorSlot();
  const isCustomer = session.me()?.id === order.customerId;

  const redraw = () => {
    const now = currentStatus(changes) ?? order.status;
    const failed = changes.find((c) => c.status === now && c.reason && now !== 'COMPLETED');
    fill(status, 'Status: ', statusBadge(now), failed ? ` — ${failed.reason}` : '');
    drawTimeline(timeline, changes);
    fill(actions);
    if (isCustomer && canCancel(now)) actions.append(cancelButton());
  };
  const cancelButton = () => {
    const button = h('button', { type: 'button', class: 'danger' }, 'Cancel order');
    button.addEventListener('click', () => {
      error.clear();
      void busy(button, async () => {
        try {
          await api('POST', `/v1/orders/${id}/cancel`);
          announce('Order cancelled');
        } catch (err) {
          error.show(err, 'The order was not cancelled:');
        }
      });
    });
    return button;
  };

  ctx.main.append(
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'summary-title' },
      h('h2', { id: 'summary-title' }, 'Summary'),
      status,
      h(
        'ul',
        { class: 'plain' },
        ...order.items.map((i) =>
          h(
            'li',
            {},
            `${i.quantity} × ${names.get(i.productId) ?? 'product'} at ${formatCents(i.unitPriceCents)}`,
          ),
        ),
      ),
      h('p', {}, 'Total: ', h('strong', {}, formatCents(order.totalCents))),
      error.el,
      actions,
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'progress-title' },
      h('h2', { id: 'progress-title' }, 'Progress'),
      timeline,
      connection,
    ),
    h(
      'p',
      {},
      link(
        isCustomer ? '/orders' : `/merchant/${order.merchantId}`,
        isCustomer ? 'All your orders' : 'Back to the store',
      ),
    ),
  );
  redraw();
  if (isTerminal(currentStatus(changes) ?? order.status)) return;

  connection.textContent = 'Connecting to live updates…';
  followEvents(`/v1/orders/${id}/events`, {
    token: session.token(),
    signal: ctx.signal,
    onConnection: (open) =>
      (connection.textContent = open ? 'Following live…' : 'Connection lost, reconnecting…'),
    onEvent: (event) => {
      if (event.event !== 'status') return;
      const data = JSON.parse(event.data) as StatusEvent;
      const before = changes.length;
      changes = mergeChanges(changes, [
        { status: data.status, fromStatus: data.fromStatus, reason: data.reason, at: data.at },
      ]);
      if (changes.length !== before) {
        redraw();
        announce(
          `Order ${statusLabel(data.status).toLowerCase()}${data.reason && isTerminal(data.status) && data.status !== 'COMPLETED' ? `: ${data.reason}` : ''}`,
        );
      }
    },
    isLast: (event) => event.event === 'status' && isTerminal((JSON.parse(event.data) as StatusEvent).status),
  }).then(
    () => {
      if (!ctx.signal.aborted) connection.textContent = 'This order is finished.';
    },
    (err: unknown) => {
      if (ctx.signal.aborted) return;
      connection.textContent = '';
      connection.append(
        errorBox(
          err instanceof StreamRefused ? new StreamError(err) : err,
          'Live updates are not available:',
        ),
      );
    },
  );
}
