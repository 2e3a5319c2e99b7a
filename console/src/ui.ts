import { ApiError } from './api';
import { fill, h } from './dom';
import { NETWORK_PROBLEM, type ProblemMessage } from './problem';

export function problemOf(err: unknown): ProblemMessage {
  if (err instanceof ApiError) return err.problem;
  return { ...NETWORK_PROBLEM, message: 'Something unexpected happened. Please reload the page.' };
}

/** The API's refusal in plain words, announced to screen readers (role=alert). */
export function errorBox(err: unknown, lead?: string): HTMLElement {
  const problem = problemOf(err);
  return h(
    'div',
    { class: 'error', role: 'alert' },
    h('p', {}, lead ? `${lead} ${problem.message}` : problem.message),
    problem.fields.length
      ? h('ul', {}, ...problem.fields.map((f) => h('li', {}, h('strong', {}, f.label), `: ${f.message}`)))
      : null,
  );
}

/** A slot above a form for its error, emptied on the next attempt. */
export function errorSlot(): { el: HTMLElement; show(err: unknown, lead?: string): void; clear(): void } {
  const el = h('div', { class: 'error-slot' });
  return {
    el,
    show: (err, lead) => fill(el, errorBox(err, lead)),
    clear: () => fill(el),
  };
}

/** The page's heading, which receives focus after a navigation so screen readers start there. */
export function pageTitle(text: string): HTMLHeadingElement {
  document.title = `${text} · Orderflow`;
  return h('h1', { tabindex: '-1', class: 'page-title' }, text);
}

export const link = (href: string, text: string, attrs: Record<string, string> = {}) =>
  h('a', { href, ...attrs }, text);

export function busy<T>(button: HTMLButtonElement, work: () => Promise<T>): Promise<T> {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  return work().finally(() => {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  });
}

/**
 * A form's submit: the page does not reload, the last refusal is cleared, the button is busy while
 * `work` runs, and a refusal is shown in the form's error slot after `lead`.
 */
export function onSubmit(
  form: HTMLFormElement,
  submit: HTMLButtonElement,
  error: ReturnType<typeof errorSlot>,
  lead: string,
  work: () => Promise<void>,
): void {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    error.clear();
    void busy(submit, async () => {
      try {
        await work();
      } catch (err) {
        error.show(err, lead);
      }
    });
  });
}

export const statusBadge = (status: string) =>
  h('span', { class: `badge badge-${status.toLowerCase()}` }, status);

/** The table of orders, newest first: the customer's history and a store's incoming orders. */
export function ordersTable(caption: string, tbody: HTMLElement): HTMLElement {
  return h(
    'table',
    { class: 'table stack' },
    h('caption', { class: 'visually-hidden' }, caption),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, 'Placed'),
        h('th', { scope: 'col' }, 'Status'),
        h('th', { scope: 'col', class: 'num' }, 'Total'),
        h('th', { scope: 'col' }, 'Order'),
      ),
    ),
    tbody,
  );
}
