import type { Context } from 'koa';
import {
  createMerchant,
  createProduct,
  findMerchant,
  listMerchants,
  listProducts,
  updateProduct,
} from '../../lib/store/catalog';
import { decodeCursor, type Cursor } from '../../lib/store/cursor';
import { listOrders } from '../../lib/store/orders';
import type { TokenClaims } from '../auth/tokens';
import type { ApiDeps } from '../deps';
import { defineRoute, idParams } from '../openapi/route';
import { problems } from '../problem';
import {
  listQuery,
  merchantBody,
  merchantPage,
  merchantView,
  orderPage,
  productBody,
  productPage,
  productPatch,
  productView,
} from '../schemas';
import { pageOf, toMerchantView, toOrderView, toProductView } from '../views';

export function cursorOrThrow(text: string | undefined): Cursor | undefined {
  if (text === undefined) return undefined;
  const cursor = decodeCursor(text);
  if (!cursor) throw problems.validation([{ field: 'cursor', message: 'is not a cursor this API issued' }]);
  return cursor;
}

export function merchantRoutes(deps: ApiDeps) {
  /** The merchant, if the caller owns it: 404 when it does not exist, 403 when it is someone else's. */
  const ownedMerchant = async (merchantId: string, user: TokenClaims) => {
    const merchant = await findMerchant(deps.db, merchantId);
    if (!merchant) throw problems.notFound('The merchant');
    if (merchant.ownerId !== user.sub)
      throw problems.forbidden('Only the owner of this merchant may do this');
    return merchant;
  };
  const created = (ctx: Context, location: string, body: unknown) => {
    ctx.status = 201;
    ctx.set('location', location);
    ctx.body = body;
  };

  return [
    defineRoute({
      method: 'get',
      path: '/v1/merchants',
      operationId: 'listMerchants',
      summary: 'Merchants, oldest first',
      tag: 'catalog',
      auth: [],
      query: listQuery,
      responses: { 200: { description: 'A page of merchants', schema: merchantPage } },
      errors: [400, 401],
      async handle(ctx, { query }) {
        const rows = await listMerchants(deps.db, query.limit, cursorOrThrow(query.cursor));
        ctx.body = pageOf(rows, query.limit, toMerchantView);
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/merchants',
      operationId: 'createMerchant',
      summary: 'Open a store owned by the calling merchant',
      tag: 'catalog',
      auth: ['merchant'],
      body: merchantBody,
      responses: { 201: { description: 'Merchant created', schema: merchantView } },
      errors: [400, 401, 403, 415],
      async handle(ctx, { body, user }) {
        const merchant = await createMerchant(deps.db, user.sub, body.name);
        created(ctx, `/v1/merchants/${merchant.id}`, toMerchantView(merchant));
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/merchants/:merchantId/products',
      operationId: 'listProducts',
      summary: "A merchant's catalog",
      tag: 'catalog',
      auth: [],
      params: idParams('merchantId'),
      query: listQuery,
      responses: { 200: { description: 'A page of products', schema: productPage } },
      errors: [400, 401, 404],
      async handle(ctx, { params, query }) {
        if (!(await findMerchant(deps.db, params.merchantId))) throw problems.notFound('The merchant');
        const rows = await listProducts(deps.db, params.merchantId, query.limit, cursorOrThrow(query.cursor));
        ctx.body = pageOf(rows, query.limit, toProductView);
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/merchants/:merchantId/products',
      operationId: 'createProduct',
      summary: 'Add a product to your store',
      tag: 'catalog',
      auth: ['merchant'],
      params: idParams('merchantId'),
      body: productBody,
      responses: { 201: { description: 'Product created', schema: productView } },
      errors: [400, 401, 403, 404, 415],
      async handle(ctx, { params, body, user }) {
        await ownedMerchant(params.merchantId, user);
        const product = await createProduct(deps.db, params.merchantId, body);
        created(ctx, `/v1/merchants/${params.merchantId}/products/${product.id}`, toProductView(product));
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/v1/merchants/:merchantId/products/:productId',
      operationId: 'updateProduct',
      summary: 'Change price, stock, description or availability of your product',
      tag: 'catalog',
      auth: ['merchant'],
      params: idParams('merchantId', 'productId'),
      body: productPatch,
      responses: { 200: { description: 'Product updated', schema: productView } },
      errors: [400, 401, 403, 404, 415],
      async handle(ctx, { params, body, user }) {
        await ownedMerchant(params.merchantId, user);
        const product = await updateProduct(deps.db, params.merchantId, params.productId, body);
        if (!product) throw problems.notFound('The product');
        ctx.body = toProductView(product);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/merchants/:merchantId/orders',
      operationId: 'listMerchantOrders',
      summary: "Your store's orders, newest first",
      tag: 'orders',
      auth: ['merchant'],
      params: idParams('merchantId'),
      query: listQuery,
      responses: { 200: { description: 'A page of orders', schema: orderPage } },
      errors: [400, 401, 403, 404],
      async handle(ctx, { params, query, user }) {
        await ownedMerchant(params.merchantId, user);
        const rows = await listOrders(
          deps.db,
          { merchantId: params.merchantId },
          query.limit,
          cursorOrThrow(query.cursor),
        );
        ctx.body = pageOf(rows, query.limit, toOrderView);
      },
    }),
  ];
}
