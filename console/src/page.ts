import type { Me } from './session';

/** What a page gets: where to draw, its path parameters, and a signal that aborts when it is left. */
export interface PageContext {
  main: HTMLElement;
  params: Record<string, string>;
  query: URLSearchParams;
  signal: AbortSignal;
  me: Me | null;
  navigate(path: string, options?: { replace?: boolean }): void;
  /** Redraws the header (cart count, who is logged in). */
  refreshShell(): void;
}

export type Page = (ctx: PageContext) => void | Promise<void>;
