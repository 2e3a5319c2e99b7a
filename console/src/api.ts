import { NETWORK_PROBLEM, problemMessage, type ProblemMessage } from './problem';
import { session, type Me } from './session';

/** A request the API refused (or never answered): what to tell the person is in `problem`. */
export class ApiError extends Error {
  constructor(readonly problem: ProblemMessage) {
    super(problem.message);
  }
  get status(): number {
    return this.problem.status;
  }
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
export interface Merchant {
  id: string;
  ownerId: string;
  name: string;
}
export interface Product {
  id: string;
  merchantId: string;
  name: string;
  description: string;
  priceCents: number;
  stock: number;
  active: boolean;
}
export interface Order {
  id: string;
  status: string;
  customerId: string;
  merchantId: string;
  totalCents: number;
  items: { productId: string; quantity: number; unitPriceCents: number }[];
  failureReason: string | null;
  createdAt: string;
  updatedAt: string;
}
export interface HistoryEntry {
  fromStatus: string | null;
  toStatus: string;
  reason: string | null;
  at: string;
}

/** Called when the API says the token is no longer good (expired, or the account is gone). */
let onUnauthorized: () => void = () => undefined;
export const whenUnauthorized = (handler: () => void) => {
  onUnauthorized = handler;
};

export async function api<T>(
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  const token = session.token();
  if (token && !headers.authorization) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (err) {
    if (options.signal?.aborted) throw err;
    throw new ApiError(NETWORK_PROBLEM);
  }
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) {
    if (response.status === 401 && token) onUnauthorized();
    throw new ApiError(problemMessage(response.status, body));
  }
  return body as T;
}

export async function logIn(email: string, password: string): Promise<Me> {
  const { accessToken } = await api<{ accessToken: string }>('POST', '/v1/auth/login', {
    body: { email, password },
  });
  const me = await api<Me>('GET', '/v1/me', { headers: { authorization: `Bearer ${accessToken}` } });
  session.save(accessToken, me);
  return me;
}

/** Every page of a list, for the short lists the console shows whole (stores, a store's products). */
export async function allPages<T>(path: string, signal?: AbortSignal): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const query: string = `limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page: Page<T> = await api<Page<T>>('GET', `${path}?${query}`, { signal });
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}
