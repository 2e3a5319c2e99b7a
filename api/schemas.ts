import { z } from 'zod';
import { ORDER_STATUSES } from '../lib/domain/order-status';

/** Request and response shapes of the HTTP API; the OpenAPI document is generated from these. */

const uuid = z.uuid();
const timestamp = z
  .date()
  .transform((d) => d.toISOString())
  .pipe(z.string())
  .or(z.string());

export const registerBody = z.strictObject({
  email: z.email().max(254),
  password: z.string().min(10, 'must be at least 10 characters').max(256),
  name: z.string().trim().min(1).max(100),
  role: z.enum(['customer', 'merchant']).default('customer'),
});

export const loginBody = z.strictObject({
  email: z.string().min(1).max(254),
  password: z.string().min(1).max(256),
});

export const userView = z.object({
  id: uuid,
  email: z.string(),
  name: z.string(),
  role: z.enum(['customer', 'merchant']),
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
  cursor: z.string().max(200).optional().describe('nextCursor of the previous page'),
});

const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });

export const merchantBody = z.strictObject({ name: z.string().trim().min(1).max(100) });

export const merchantView = z.object({ id: uuid, ownerId: uuid, name: z.string(), createdAt: timestamp });
export const merchantPage = pageOf(merchantView);

const productFields = {
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000),
  priceCents: z.number().int().min(0).max(100_000_000).describe('price in cents'),
  stock: z.number().int().min(0).max(10_000_000),
  active: z.boolean(),
};

export const productBody = z.strictObject({
  ...productFields,
  description: productFields.description.default(''),
  active: productFields.active.default(true),
});

export const productPatch = z
  .strictObject({
    name: productFields.name.optional(),
    description: productFields.description.optional(),
    priceCents: productFields.priceCents.optional(),
    stock: productFields.stock.optional(),
    active: productFields.active.optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, { message: 'at least one field is required' });

export const productView = z.object({
  id: uuid,
  merchantId: uuid,
  ...productFields,
  createdAt: timestamp,
  updatedAt: timestamp,
});
export const productPage = pageOf(productView);

export const deliveryAddress = z.strictObject({
  street: z.string().trim().min(1).max(200),
  number: z.string().trim().max(20).optional(),
  complement: z.string().trim().max(200).optional(),
  city: z.string().trim().min(1).max(100),
  postalCode: z.string().trim().min(1).max(20),
  country: z
    .string()
    .regex(/^[A-Za-z]{2}$/, 'must be an ISO 3166-1 alpha-2 code')
    .transform((c) => c.toUpperCase()),
  notes: z.string().max(500).optional(),
});

export const createOrderBody = z.strictObject({
  merchantId: uuid,
  items: z
    .array(z.strictObject({ productId: uuid, quantity: z.number().int().min(1).max(100) }))
    .min(1)
    .max(50),
  deliveryAddress,
  payment: z.strictObject({
    method: z.enum(['card', 'pix', 'wallet']),
    token: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe('gateway token; tok_decline and tok_flaky are test tokens'),
  }),
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
