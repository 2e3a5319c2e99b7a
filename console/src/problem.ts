/** What a failed request means for a person: the API's problem+json in plain words. */

export interface FieldMessage {
  field: string;
  /** The field as a person reads it on the form: `deliveryAddress.postalCode` -> `Postal code`. */
  label: string;
  message: string;
}

export interface ProblemMessage {
  status: number;
  message: string;
  fields: FieldMessage[];
}

interface ProblemBody {
  title?: unknown;
  detail?: unknown;
  errors?: unknown;
}

const FALLBACK: Record<number, string> = {
  400: 'The request was not valid.',
  401: 'Please log in again: your session has ended.',
  403: 'Your account is not allowed to do this.',
  404: 'This does not exist, or you cannot see it.',
  409: 'This conflicts with the current state; reload and try again.',
  429: 'Too many attempts; wait a little and try again.',
  503: 'A service the API depends on is not answering; try again shortly.',
};

/** `items.0.productId` -> `Item 1 product`, `deliveryAddress.postalCode` -> `Postal code`. */
export function fieldLabel(field: string): string {
  const parts = field.split('.').filter((p) => p !== 'deliveryAddress' && p !== 'payment');
  const words = parts.map((part) =>
    /^\d+$/.test(part)
      ? `item ${Number(part) + 1}`
      : part
          .replace(/Id$/, '')
          .replace(/([a-z])([A-Z])/g, '$1 $2')
          .toLowerCase(),
  );
  const text = words.filter((w) => w !== 'items').join(' ') || field;
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function fieldMessages(errors: unknown): FieldMessage[] {
  if (!Array.isArray(errors)) return [];
  return errors.flatMap((e: { field?: unknown; message?: unknown }) =>
    typeof e?.field === 'string' && typeof e.message === 'string'
      ? [{ field: e.field, label: fieldLabel(e.field), message: e.message }]
      : [],
  );
}

/** The body may be anything (a proxy's HTML page, nothing at all): only a problem's fields are trusted. */
export function problemMessage(status: number, body: unknown): ProblemMessage {
  const problem = (body && typeof body === 'object' ? body : {}) as ProblemBody;
  const fields = fieldMessages(problem.errors);
  const detail = typeof problem.detail === 'string' && problem.detail.trim() ? problem.detail.trim() : '';
  const title = typeof problem.title === 'string' ? problem.title : '';
  let message: string;
  if (fields.length) message = 'Please correct the fields below.';
  else if (status >= 500 && status !== 503) message = 'Something went wrong on our side. Please try again.';
  else message = detail || FALLBACK[status] || title || `The request failed (HTTP ${status}).`;
  if (message && !/[.!?]$/.test(message)) message += '.';
  return { status, message, fields };
}

/** A request that never got an answer (offline, the server stopped). */
export const NETWORK_PROBLEM: ProblemMessage = {
  status: 0,
  message: 'The server could not be reached. Check your connection and try again.',
  fields: [],
};
