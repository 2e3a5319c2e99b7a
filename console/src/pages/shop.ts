import { allPages, api, type Merchant, type Order, type Product } from '../api';
import { addToCart, cartTotal, lineTotal, orderItems, setQuantity, type Cart } from '../cart';
import { announce, field, fill, h, selectField } from '../dom';
import { formatCents } from '../format';
import type { PageContext } from '../page';
import { session } from '../session';
import { errorBox, errorSlot, link, onSubmit, pageTitle } from '../ui';

export async function storesPage(ctx: PageContext): Promise<void> {
  ctx.main.append(pageTitle('Stores'));
  try {
    const stores = await allPages<Merchant>('/v1/merchants', ctx.signal);
    ctx.main.append(
      stores.length
        ? h(
            'ul',
            { class: 'tiles' },
            ...stores.map((s) => h('li', { class: 'card' }, h('h2', {}, link(`/stores/${s.id}`, s.name)))),
          )
        : h('p', {}, 'No store is open yet.'),
    );
  } catch (err) {
    ctx.main.append(errorBox(err, 'The stores could not be loaded:'));
  }
}

export async function storePage(ctx: PageContext): Promise<void> {
  const heading = pageTitle('Store');
  ctx.main.append(heading);
  try {
    const [stores, products] = await Promise.all([
      allPages<Merchant>('/v1/merchants', ctx.signal),
      allPages<Product>(`/v1/merchants/${ctx.params.id}/products`, ctx.signal),
    ]);
    const store = stores.find((s) => s.id === ctx.params.id) ?? { id: ctx.params.id!, name: 'Store' };
    heading.textContent = store.name;
    document.title = `${store.name} · Orderflow`;
    const notice = h('p', { class: 'notice', role: 'status' });
    const rows = products
      .filter((p) => p.active)
      .map((p) => {
        const add = h('button', { type: 'button', 'aria-label': `Add to cart: ${p.name}` }, 'Add to cart');
        if (p.stock === 0) add.disabled = true;
        add.addEventListener('click', () => {
          const result = addToCart(session.cart(), store, p);
          session.saveCart(result.cart);
          ctx.refreshShell();
          const line = result.cart.lines.find((l) => l.productId === p.id);
          const text = `${p.name} in cart: ${line?.quantity ?? 0}.${result.replaced ? ' Your cart from another store was emptied: an order is from one store.' : ''}`;
          notice.textContent = text;
        });
        return h(
          'tr',
          {},
          h(
            'th',
            { scope: 'row' },
            p.name,
            p.description ? h('small', { class: 'muted block' }, p.description) : null,
          ),
          h('td', { class: 'num' }, formatCents(p.priceCents)),
          h('td', { class: 'num' }, p.stock === 0 ? 'Sold out' : String(p.stock)),
          h('td', {}, add),
        );
      });
    ctx.main.append(
      h(
        'table',
        { class: 'table stack' },
        h('caption', { class: 'visually-hidden' }, `Products of ${store.name}`),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col' }, 'Product'),
            h('th', { scope: 'col', class: 'num' }, 'Price'),
            h('th', { scope: 'col', class: 'num' }, 'In stock'),
            h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')),
          ),
        ),
        h('tbody', {}, ...rows),
      ),
      notice,
      h('p', {}, link('/cart', 'Go to cart', { class: 'button' })),
    );
  } catch (err) {
    ctx.main.append(errorBox(err, 'This store could not be loaded:'));
  }
}

const PAYMENT_TOKENS = [
  { value: 'tok_visa', label: 'Test card that is approved (tok_visa)' },
  { value: 'tok_decline', label: 'Test card that is declined (tok_decline)' },
  { value: 'tok_flaky', label: 'Test card whose gateway fails twice, then approves (tok_flaky)' },
];

function cartTable(ctx: PageContext, cart: Cart, redraw: () => void): HTMLElement {
  return h(
    'table',
    { class: 'table stack' },
    h('caption', { class: 'visually-hidden' }, 'Your cart'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, 'Product'),
        h('th', { scope: 'col' }, 'Quantity'),
        h('th', { scope: 'col', class: 'num' }, 'Total'),
      ),
    ),
    h(
      'tbody',
      {},
      ...cart.lines.map((line) => {
        const qty = h('input', {
          type: 'number',
          min: 0,
          max: Math.min(100, line.stock),
          value: line.quantity,
          class: 'qty',
          'aria-label': `Quantity of ${line.name}`,
        });
        qty.addEventListener('change', () => {
          session.saveCart(setQuantity(session.cart(), line.productId, Number(qty.value)));
          ctx.refreshShell();
          redraw();
        });
        return h(
          'tr',
          {},
          h(
            'th',
            { scope: 'row' },
            line.name,
            h('small', { class: 'muted block' }, `${formatCents(line.unitPriceCents)} each`),
          ),
          h('td', {}, qty),
          h('td', { class: 'num' }, formatCents(lineTotal(line))),
        );
      }),
    ),
    h(
      'tfoot',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'row', colspan: 2 }, 'Total'),
        h('td', { class: 'num' }, h('strong', {}, formatCents(cartTotal(cart)))),
      ),
    ),
  );
}

function checkoutForm(ctx: PageContext, cart: Cart): HTMLFormElement {
  const error = errorSlot();
  const street = field('Street', {
    name: 'street',
    autocomplete: 'address-line1',
    required: true,
    value: 'Rua das Flores',
  });
  const number = field('Number', { name: 'number', value: '42' });
  const city = field('City', {
    name: 'city',
    autocomplete: 'address-level2',
    required: true,
    value: 'Belo Horizonte',
  });
  const postalCode = field('Postal code', {
    name: 'postalCode',
    autocomplete: 'postal-code',
    required: true,
    value: '30110-000',
  });
  const country = field('Country (2 letters)', {
    name: 'country',
    autocomplete: 'country',
    required: true,
    value: 'BR',
    maxlength: 2,
  });
  const method = selectField('Payment method', 'method', [
    { value: 'card', label: 'Card' },
    { value: 'pix', label: 'Pix' },
    { value: 'wallet', label: 'Wallet' },
  ]);
  const token = selectField('Payment token', 'token', PAYMENT_TOKENS);
  const submit = h('button', { type: 'submit' }, `Place order (${formatCents(cartTotal(cart))})`);
  // One key per checkout: a retry after a lost answer replays the first order instead of placing two.
  const idempotencyKey = crypto.randomUUID();
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'checkout-title' },
    h('h2', { id: 'checkout-title' }, 'Delivery and payment'),
    error.el,
    h(
      'fieldset',
      {},
      h('legend', {}, 'Delivery address'),
      street.wrapper,
      number.wrapper,
      city.wrapper,
      postalCode.wrapper,
      country.wrapper,
    ),
    h('fieldset', {}, h('legend', {}, 'Payment'), method.wrapper, token.wrapper),
    submit,
  );
  onSubmit(form, submit, error, 'The order was not placed:', async () => {
    const order = await api<Order>('POST', '/v1/orders', {
      headers: { 'idempotency-key': idempotencyKey },
      body: {
        merchantId: cart.merchantId,
        items: orderItems(cart),
        deliveryAddress: {
          street: street.input.value,
          number: number.input.value,
          city: city.input.value,
          postalCode: postalCode.input.value,
          country: country.input.value,
        },
        payment: { method: method.select.value, token: token.select.value },
      },
    });
    session.saveCart({ merchantId: null, merchantName: '', lines: [] });
    ctx.refreshShell();
    announce('Order placed');
    ctx.navigate(`/orders/${order.id}`);
  });
  return form;
}

export function cartPage(ctx: PageContext): void {
  const content = h('div');
  const draw = () => {
    const cart = session.cart();
    if (!cart.lines.length) {
      fill(content, h('p', {}, 'Your cart is empty. ', link('/stores', 'Browse the stores')));
      return;
    }
    fill(
      content,
      h('p', {}, 'From ', link(`/stores/${cart.merchantId}`, cart.merchantName)),
      cartTable(ctx, cart, draw),
      checkoutForm(ctx, cart),
    );
  };
  ctx.main.append(pageTitle('Cart'), content);
  draw();
}
