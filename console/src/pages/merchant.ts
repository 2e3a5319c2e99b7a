import { allPages, api, ApiError, type Merchant, type Order, type Page, type Product } from '../api';
import { announce, field, fill, h } from '../dom';
import { formatCents, formatTime, parsePrice } from '../format';
import type { PageContext } from '../page';
import { problemMessage } from '../problem';
import { session } from '../session';
import { followEvents, StreamRefused } from '../sse';
import { busy, errorBox, errorSlot, link, onSubmit, ordersTable, pageTitle, statusBadge } from '../ui';

export async function merchantHomePage(ctx: PageContext): Promise<void> {
  const list = h('div');
  const error = errorSlot();
  const name = field('Store name', { name: 'name', required: true, maxlength: 100 });
  const submit = h('button', { type: 'submit' }, 'Open store');
  const form = h(
    'form',
    { class: 'card narrow', 'aria-labelledby': 'new-store' },
    h('h2', { id: 'new-store' }, 'Open a new store'),
    error.el,
    name.wrapper,
    submit,
  );
  ctx.main.append(pageTitle('Your stores'), list, form);

  const draw = async () => {
    try {
      const me = session.me();
      const stores = (await allPages<Merchant>('/v1/merchants', ctx.signal)).filter(
        (s) => s.ownerId === me?.id,
      );
      fill(
        list,
        stores.length
          ? h(
              'ul',
              { class: 'tiles' },
              ...stores.map((s) =>
                h('li', { class: 'card' }, h('h2', {}, link(`/merchant/${s.id}`, s.name))),
              ),
            )
          : h('p', {}, 'You have no store yet.'),
      );
    } catch (err) {
      fill(list, errorBox(err, 'Your stores could not be loaded:'));
    }
  };
  onSubmit(form, submit, error, 'The store was not opened:', async () => {
    const store = await api<Merchant>('POST', '/v1/merchants', { body: { name: name.input.value } });
    announce(`Store ${store.name} opened`);
    ctx.navigate(`/merchant/${store.id}`);
  });
  await draw();
}

function productRow(
  merchantId: string,
  product: Product,
  onChange: (p: Product) => void,
): HTMLTableRowElement {
  const error = errorSlot();
  const price = h('input', {
    type: 'text',
    inputmode: 'decimal',
    value: (product.priceCents / 100).toFixed(2),
    class: 'price',
    'aria-label': `Price of ${product.name} in reais`,
    name: 'priceCents',
  });
  const stock = h('input', {
    type: 'number',
    min: 0,
    value: product.stock,
    class: 'qty',
    'aria-label': `Stock of ${product.name}`,
    name: 'stock',
  });
  const save = h('button', { type: 'button', 'aria-label': `Save ${product.name}` }, 'Save');
  const toggle = h(
    'button',
    {
      type: 'button',
      class: 'secondary',
      'aria-label': `${product.active ? 'Deactivate' : 'Activate'} ${product.name}`,
    },
    product.active ? 'Deactivate' : 'Activate',
  );
  const patch = (body: Partial<Product>, button: HTMLButtonElement) =>
    busy(button, async () => {
      error.clear();
      try {
        const updated = await api<Product>('PATCH', `/v1/merchants/${merchantId}/products/${product.id}`, {
          body,
        });
        announce(`${updated.name} saved`);
        onChange(updated);
      } catch (err) {
        error.show(err, `${product.name} was not saved:`);
      }
    });
  save.addEventListener('click', () => {
    const cents = parsePrice(price.value);
    if (cents === undefined) {
      error.show(
        new ApiError(problemMessage(400, { detail: 'The price must be a number of reais, like 12.90' })),
      );
      return;
    }
    void patch({ priceCents: cents, stock: Number(stock.value) }, save);
  });
  toggle.addEventListener('click', () => void patch({ active: !product.active }, toggle));
  return h(
    'tr',
    { class: product.active ? '' : 'inactive', 'data-product': product.id },
    h(
      'th',
      { scope: 'row' },
      product.name,
      product.active ? null : h('small', { class: 'muted block' }, 'not for sale'),
      error.el,
    ),
    h('td', { 'data-label': 'R$' }, price),
    h('td', { 'data-label': 'Stock' }, stock),
    h('td', { class: 'row-actions' }, save, toggle),
  );
}

function newProductForm(merchantId: string, onCreated: (p: Product) => void): HTMLFormElement {
  const error = errorSlot();
  const name = field('Name', { name: 'name', required: true, maxlength: 200 });
  const price = field('Price (R$)', {
    name: 'priceCents',
    inputmode: 'decimal',
    required: true,
    placeholder: '12.90',
  });
  const stock = field('Stock', { name: 'stock', type: 'number', min: 0, required: true, value: '10' });
  const submit = h('button', { type: 'submit' }, 'Add product');
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'new-product' },
    h('h2', { id: 'new-product' }, 'Add a product'),
    error.el,
    h('div', { class: 'row' }, name.wrapper, price.wrapper, stock.wrapper),
    submit,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    error.clear();
    const cents = parsePrice(price.input.value);
    if (cents === undefined) {
      error.show(
        new ApiError(problemMessage(400, { detail: 'The price must be a number of reais, like 12.90' })),
      );
      return;
    }
    void busy(submit, async () => {
      try {
        const product = await api<Product>('POST', `/v1/merchants/${merchantId}/products`, {
          body: { name: name.input.value, priceCents: cents, stock: Number(stock.input.value) },
        });
        form.reset();
        announce(`${product.name} added`);
        onCreated(product);
      } catch (err) {
        error.show(err, 'The product was not added:');
      }
    });
  });
  return form;
}

interface MerchantOrderEvent {
  orderId: string;
  status: string;
  reason: string | null;
  at: string;
  customerId?: string;
  totalCents?: number;
}

function orderRow(o: {
  id: string;
  status: string;
  totalCents?: number;
  at: string;
  reason?: string | null;
}) {
  return h(
    'tr',
    { 'data-order': o.id },
    h('td', {}, formatTime(o.at)),
    h(
      'td',
      { class: 'status-cell' },
      statusBadge(o.status),
      o.reason ? h('small', { class: 'muted block' }, o.reason) : null,
    ),
    h('td', { class: 'num' }, o.totalCents === undefined ? '' : formatCents(o.totalCents)),
    h('td', {}, link(`/orders/${o.id}`, `Order ${o.id.slice(0, 8)}`)),
  );
}

async function incomingOrders(ctx: PageContext, merchantId: string): Promise<HTMLElement> {
  const tbody = h('tbody');
  const connection = h('p', { class: 'muted' });
  const section = h(
    'section',
    { class: 'card', 'aria-labelledby': 'incoming' },
    h('h2', { id: 'incoming' }, 'Incoming orders'),
    h('p', { class: 'visually-hidden', 'aria-live': 'polite', id: 'incoming-news' }),
    ordersTable('Orders of this store, newest first', tbody),
    connection,
  );
  try {
    const page = await api<Page<Order>>('GET', `/v1/merchants/${merchantId}/orders?limit=20`, {
      signal: ctx.signal,
    });
    tbody.append(
      ...page.items.map((o) =>
        orderRow({
          id: o.id,
          status: o.status,
          totalCents: o.totalCents,
          at: o.createdAt,
          reason: o.failureReason,
        }),
      ),
    );
  } catch (err) {
    section.append(errorBox(err, 'The orders could not be loaded:'));
    return section;
  }
  const news = section.querySelector('#incoming-news')!;
  connection.textContent = 'Connecting to live updates…';
  followEvents(`/v1/merchants/${merchantId}/orders/events`, {
    token: session.token(),
    signal: ctx.signal,
    onConnection: (open) =>
      (connection.textContent = open ? 'Following live…' : 'Connection lost, reconnecting…'),
    onEvent: (event) => {
      if (event.event !== 'status') return;
      const e = JSON.parse(event.data) as MerchantOrderEvent;
      const existing = tbody.querySelector<HTMLTableRowElement>(`tr[data-order="${e.orderId}"]`);
      if (existing) {
        const cell = existing.querySelector('.status-cell')!;
        fill(cell, statusBadge(e.status), e.reason ? h('small', { class: 'muted block' }, e.reason) : null);
      } else {
        tbody.prepend(
          orderRow({ id: e.orderId, status: e.status, totalCents: e.totalCents, at: e.at, reason: e.reason }),
        );
        news.textContent = `New order ${e.orderId.slice(0, 8)}`;
      }
    },
  }).catch((err: unknown) => {
    if (ctx.signal.aborted) return;
    fill(
      connection,
      errorBox(
        err instanceof StreamRefused ? new ApiError(problemMessage(err.status, err.body)) : err,
        'Live updates are not available:',
      ),
    );
  });
  return section;
}

export async function merchantStorePage(ctx: PageContext): Promise<void> {
  const merchantId = ctx.params.id!;
  const heading = pageTitle('Store');
  ctx.main.append(heading);
  let products: Product[];
  try {
    const [stores, list] = await Promise.all([
      allPages<Merchant>('/v1/merchants', ctx.signal),
      allPages<Product>(`/v1/merchants/${merchantId}/products`, ctx.signal),
    ]);
    const store = stores.find((s) => s.id === merchantId);
    heading.textContent = store?.name ?? 'Store';
    document.title = `${heading.textContent} · Orderflow`;
    if (store && store.ownerId !== session.me()?.id)
      ctx.main.append(
        h('p', { class: 'notice' }, 'This store belongs to someone else: the API will refuse your changes.'),
      );
    products = list;
  } catch (err) {
    ctx.main.append(errorBox(err, 'This store could not be loaded:'));
    return;
  }
  const tbody = h('tbody');
  const draw = () =>
    fill(
      tbody,
      ...products.map((p) =>
        productRow(merchantId, p, (updated) => {
          products = products.map((x) => (x.id === updated.id ? updated : x));
          draw();
        }),
      ),
    );
  draw();
  const catalog = h(
    'section',
    { class: 'card', 'aria-labelledby': 'catalog' },
    h('h2', { id: 'catalog' }, 'Products'),
    h(
      'div',
      { class: 'scroll' },
      h(
        'table',
        { class: 'table stack' },
        h('caption', { class: 'visually-hidden' }, 'Products, with price and stock you can change'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col' }, 'Product'),
            h('th', { scope: 'col' }, 'Price (R$)'),
            h('th', { scope: 'col' }, 'Stock'),
            h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')),
          ),
        ),
        tbody,
      ),
    ),
  );
  const form = newProductForm(merchantId, (created) => {
    products = [...products, created];
    draw();
  });
  ctx.main.append(
    await incomingOrders(ctx, merchantId),
    catalog,
    form,
    h('p', {}, link('/merchant', 'All your stores')),
  );
}
