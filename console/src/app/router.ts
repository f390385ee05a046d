/**
 * A small history router: the console's pages are plain paths (`/experiments/1`), which the local
 * runtime and CloudFront answer with `index.html` (the SPA fallback); links are ordinary anchors the
 * app intercepts.
 */
import { signal } from '@preact/signals';

export const location = signal(currentLocation());

function currentLocation() {
  return { path: window.location.pathname, search: new URLSearchParams(window.location.search) };
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  location.value = currentLocation();
  window.scrollTo(0, 0);
}

/** Replaces the query string without a new history entry (filters, sort order, chosen columns). */
export function setQuery(changes: Record<string, string | undefined>): void {
  const params = new URLSearchParams(window.location.search);
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined || value === '') params.delete(key);
    else params.set(key, value);
  }
  const search = params.toString();
  history.replaceState(null, '', `${window.location.pathname}${search ? `?${search}` : ''}`);
  location.value = currentLocation();
}

window.addEventListener('popstate', () => {
  location.value = currentLocation();
});

// Same-origin anchors navigate in the app; modified clicks (new tab) and downloads keep the browser's way.
document.addEventListener('click', (event) => {
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const anchor = (event.target as Element | null)?.closest?.('a');
  if (!anchor || anchor.target || anchor.hasAttribute('download')) return;
  const href = anchor.getAttribute('href');
  if (!href?.startsWith('/') || href.startsWith('//')) return;
  event.preventDefault();
  navigate(href);
});

/** Matches `pattern` (`/experiments/:id`) against a path; answers the decoded parameters. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/').filter(Boolean);
  const got = path.split('/').filter(Boolean);
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const part = want[i] as string;
    const actual = got[i] as string;
    if (part.startsWith(':')) params[part.slice(1)] = decodeURIComponent(actual);
    else if (part !== actual) return null;
  }
  return params;
}

/** A path with each segment encoded. */
export function href(...segments: Array<string | number>): string {
  return `/${segments.map((segment) => encodeURIComponent(String(segment))).join('/')}`;
}
