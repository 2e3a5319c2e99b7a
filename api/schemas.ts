import { z } from 'zod';
import { ORDER_STATUSES } from '../lib/domain/order-status';
import { CURSOR_PATTERN } from '../lib/store/cursor';
import { ROLES } from '../lib/store/users';

/**
 * Request and response shapes of the HTTP API; the OpenAPI document is generated from these. Every
 * rule about a request's shape is one the document can state (a pattern, a bound, minProperties), so
 * a request that follows the document is refused only for what the document names: an id that does
 * not exist, a conflict, an order the catalog cannot fill.
 */

const uuid = z.uuid();

const NO_NUL = '[^\\u0000]';
/** The characters String.prototype.trim removes, spelled out so the pattern reads the same in any regex dialect. */
const SPACE = '\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff';

/** Text a client sends. PostgreSQL cannot store NUL (U+0000) in text: it is refused with the field's name. */
const text = (max: number) =>
  z
    .string()
    .max(max)
    .regex(new RegExp(`^${NO_NUL}*$`), 'must not contain NUL (U+0000)');

/** Text that must say something: surrounding whitespace is dropped, and something must remain. */
const requiredText = (max: number) =>
  z
    .string()
    .max(max)
    .regex(
      new RegExp(`^${NO_NUL}*[^\\u0000${SPACE}]${NO_NUL}*$`),
      'must contain a non-space character and no NUL (U+0000)',
    )
    .trim();

/**
 * zod's email rule as a plain pattern: `format: email` would promise RFC 5321 and IDNA rules (local
 * part of at most 64 characters, no `--` inside labels) that this API has never applied.
 */
const email = z
  .string()
  .max(254)
  .regex(z.regexes.email, 'must be an email address')
  .describe('email address');

/** A request header an operation reads (Idempotency-Key): an opaque token of visible ASCII. */
export const headerToken = z.string().regex(/^[\x21-\x7e]{1,255}$/, 'must be 1-255 visible ASCII characters');

const timestamp = z
  .date()
  .transform((d) => d.toISOString())
  .pipe(z.string())
  .or(z.string());

export const registerBody = z
  .strictObject({
    email,
    password: text(256).min(10, 'must be at least 10 characters'),
    name: requiredText(100),
    role: z.enum(['customer', 'merchant']).default('customer'),
  })
  .meta({
    examples: [
      { email: 'ana@example.com', password: 'correct horse battery', name: 'Ana', role: 'customer' },
    ],
  });

export const loginBody = z
  .strictObject({
    email: text(254).min(1),
    password: text(256).min(1),
  })
  .meta({ examples: [{ email: 'ana@example.com', password: 'correct horse battery' }] });

export const userView = z.object({
  id: uuid,
  email: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  createdAt: timestamp,
});

export const tokenView = z.object({
  accessToken: z.string(),
  tokenType: z.literal('Bearer'),
  expiresIn: z.number().int().describe('seconds'),
});

export const listQuery = z.strictObject({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .default(20)
    .transform((n) => Math.min(n, 100))
    .describe('page size, at most 100'),
  cursor: z
    .string()
    .regex(CURSOR_PATTERN, 'is not a cursor this API issued')
    .optional()
    .describe("the previous page's nextCursor, as issued; omit it for the first page"),
});

const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });

export const merchantBody = z
  .strictObject({ name: requiredText(100) })
  .meta({ examples: [{ name: 'Padaria Central' }] });

export const merchantView = z.object({ id: uuid, ownerId: uuid, name: z.string(), createdAt: timestamp });
export const merchantPage = pageOf(merchantView);

const productFields = {
  name: requiredText(200),
  description: text(2000),
  priceCents: z.number().int().min(0).max(100_000_000).describe('price in cents'),
  stock: z.number().int().min(0).max(10_000_000),
  active: z.boolean(),
};

export const productBody = z
  .strictObject({
    ...productFields,
    description: productFields.description.default(''),
    active: productFields.active.default(true),
  })
  .meta({
    examples: [
      { name: 'Pão de queijo', description: 'Six, warm', priceCents: 1290, stock: 40, active: true },
    ],
  });

export const productPatch = z
  .strictObject({
    name: productFields.name.optional(),
    description: productFields.description.optional(),
    priceCents: productFields.priceCents.optional(),
    stock: productFields.stock.optional(),
    active: productFields.active.optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, { message: 'at least one field is required' })
  .meta({ minProperties: 1, examples: [{ priceCents: 1490, stock: 12 }] });

export const productView = z.object({
  id: uuid,
  merchantId: uuid,
  ...productFields,
  createdAt: timestamp,
  updatedAt: timestamp,
});
export const productPage = pageOf(productView);

export const deliveryAddress = z.strictObject({
  street: requiredText(200),
  number: text(20).trim().optional(),
  complement: text(200).trim().optional(),
  city: requiredText(100),
  postalCode: requiredText(20),
  country: z
    .string()
    .regex(/^[A-Za-z]{2}$/, 'must be an ISO 3166-1 alpha-2 code')
    .transform((c) => c.toUpperCase()),
  notes: text(500).optional(),
});

export const createOrderBody = z
  .strictObject({
    merchantId: uuid,
    items: z
      .array(z.strictObject({ productId: uuid, quantity: z.number().int().min(1).max(100) }))
      .min(1)
      .max(50),
    deliveryAddress,
    payment: z.strictObject({
      method: z.enum(['card', 'pix', 'wallet']),
      token: text(200).min(1).optional().describe('gateway token; tok_decline and tok_flaky are test tokens'),
    }),
  })
  .meta({
    examples: [
      {
        merchantId: '5b0a6c36-7f0e-4d8b-9a43-0c1f5e2d7a10',
        items: [{ productId: '9c2e4f61-3b7d-4a85-8e19-6d0b2c4f8a37', quantity: 2 }],
        deliveryAddress: {
          street: 'Rua das Flores',
          number: '42',
          city: 'Belo Horizonte',
          postalCode: '30110-000',
          country: 'BR',
        },
        payment: { method: 'card', token: 'tok_visa' },
      },
    ],
  });

export const orderView = z.object({
  id: uuid,
  status: z.enum(ORDER_STATUSES),
  customerId: uuid,
  merchantId: uuid,
  totalCents: z.number().int(),
  items: z.array(z.object({ productId: uuid, quantity: z.number().int(), unitPriceCents: z.number().int() })),
  deliveryAddress: deliveryAddress,
  payment: z.object({ method: z.string() }),
  failureReason: z.string().nullable(),
  createdAt: timestamp,
  updatedAt: timestamp,
  finishedAt: timestamp.nullable(),
});
export const orderPage = pageOf(orderView);

export const historyView = z.object({
  orderId: uuid,
  entries: z.array(
    z.object({
      fromStatus: z.enum(ORDER_STATUSES).nullable(),
      toStatus: z.enum(ORDER_STATUSES),
      reason: z.string().nullable(),
      at: timestamp,
    }),
  ),
});

/** `Last-Event-ID`: the id of the last event a client received (an order_history id). */
export const lastEventId = z
  .string()
  .regex(/^[0-9]{1,15}$/, 'must be the id of an event this API sent (digits)');

const statusChange = {
  orderId: uuid,
  status: z.enum(ORDER_STATUSES),
  fromStatus: z.enum(ORDER_STATUSES).nullable().describe('null for a new order'),
  reason: z.string().nullable(),
  at: z.string().describe('when the change committed (ISO 8601)'),
};
export const orderEventData = z.object(statusChange);
export const merchantEventData = z.object({
  ...statusChange,
  customerId: uuid,
  totalCents: z.number().int(),
});

/** The JSON Schema of a JSON text inside another schema (no `$schema` of its own). */
function jsonContent(schema: z.ZodType): Record<string, unknown> {
  const json: Record<string, unknown> = z.toJSONSchema(schema, { io: 'output' });
  delete json.$schema;
  return json;
}

/** One Server-Sent Event as a client's parser yields it; `data` is JSON of the given shape. */
const statusEvent = (data: z.ZodType, description: string) =>
  z
    .object({
      id: z
        .string()
        .regex(/^[0-9]+$/)
        .describe("the change's id: send the last one back as Last-Event-ID to resume"),
      event: z.literal('status'),
      data: z
        .string()
        .meta({ contentMediaType: 'application/json', contentSchema: jsonContent(data) })
        .describe(description),
    })
    .describe(
      'Each event is `id: <history id>`, `event: status`, `data: <JSON>` and a blank line. The stream ' +
        'starts with `retry: 2000`; a `: heartbeat` comment line comes every 15 s.',
    );

export const orderStatusEvent = statusEvent(
  orderEventData,
  'JSON: {orderId, status, fromStatus, reason, at}',
);
export const merchantStatusEvent = statusEvent(
  merchantEventData,
  'JSON: {orderId, status, fromStatus, reason, at, customerId, totalCents}',
);
