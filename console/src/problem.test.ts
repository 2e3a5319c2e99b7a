import { describe, expect, it } from 'vitest';
import { fieldLabel, problemMessage } from './problem';

describe('problemMessage', () => {
  it.each([
    // the API's detail is what a person reads, with a full stop
    [
      401,
      { title: 'Invalid credentials', detail: 'Email or password is wrong' },
      'Email or password is wrong.',
    ],
    // a 403 from a role check says which accounts may
    [403, { detail: 'This operation is for admin accounts' }, 'This operation is for admin accounts.'],
    // no detail: a plain sentence per status
    [404, { title: 'Not found' }, 'This does not exist, or you cannot see it.'],
    // a 500 never shows internals
    [
      500,
      { detail: 'relation "orders" does not exist' },
      'Something went wrong on our side. Please try again.',
    ],
    // a body that is not a problem at all (a proxy's page)
    [502, '<html>Bad gateway</html>', 'Something went wrong on our side. Please try again.'],
    // an unknown status with a title only
    [418, { title: "I'm a teapot" }, "I'm a teapot."],
  ])('HTTP %i %j -> %s', (status, body, message) => {
    expect(problemMessage(status, body).message).toBe(message);
  });

  it('turns errors[] into per-field messages with readable labels', () => {
    const result = problemMessage(400, {
      detail: 'deliveryAddress.postalCode: must contain a non-space character',
      errors: [
        { field: 'deliveryAddress.postalCode', message: 'must contain a non-space character' },
        { field: 'items.0.productId', message: 'is out of stock' },
        { nonsense: true },
      ],
    });
    expect(result.message).toBe('Please correct the fields below.');
    expect(result.fields).toEqual([
      {
        field: 'deliveryAddress.postalCode',
        label: 'Postal code',
        message: 'must contain a non-space character',
      },
      { field: 'items.0.productId', label: 'Item 1 product', message: 'is out of stock' },
    ]);
  });

  it.each([
    ['password', 'Password'],
    ['priceCents', 'Price cents'],
    ['payment.token', 'Token'],
  ])('labels %s as %s', (field, label) => {
    expect(fieldLabel(field)).toBe(label);
  });
});
