/** History-API routing: `/orders/:id` patterns, links handled in place, the back button works. */

export interface Route<T> {
  pattern: string;
  value: T;
}

export function matchRoute<T>(
  routes: readonly Route<T>[],
  path: string,
): { value: T; params: Record<string, string> } | undefined {
  const parts = path.replace(/\/+$/, '').split('/').filter(Boolean);
  for (const route of routes) {
    const pattern = route.pattern.split('/').filter(Boolean);
    if (pattern.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const ok = pattern.every((p, i) => {
      if (p.startsWith(':')) {
        params[p.slice(1)] = decodeURIComponent(parts[i]!);
        return true;
      }
      return p === parts[i];
    });
    if (ok) return { value: route.value, params };
  }
  return undefined;
}

export function startRouter(render: () => void): (path: string, options?: { replace?: boolean }) => void {
  const navigate = (path: string, options: { replace?: boolean } = {}) => {
    if (options.replace) history.replaceState(null, '', path);
    else history.pushState(null, '', path);
    render();
  };
  document.addEventListener('click', (event) => {
    const anchor = (event.target as Element | null)?.closest?.('a');
    if (
      !anchor ||
      event.defaultPrevented ||
      event.button !== 0 ||
      event.metaKey ||
      event.ctrlKey ||
      event.shiftKey ||
      event.altKey ||
      anchor.target ||
      anchor.origin !== location.origin ||
      anchor.pathname.startsWith('/docs') ||
      anchor.hasAttribute('download')
    )
      return;
    event.preventDefault();
    navigate(anchor.pathname + anchor.search);
  });
  window.addEventListener('popstate', render);
  return navigate;
}
