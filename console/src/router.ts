// Hash routes (#/keys/ID): the server serves one page; no server-side fallback routes are needed.
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  view: string;
  id: string | undefined;
  query: URLSearchParams;
}

export function parseRoute(hash: string): Route {
  const [path = '', search = ''] = hash.replace(/^#\/?/, '').split('?');
  const [view = 'keys', id] = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { view, id, query: new URLSearchParams(search) };
}

export function useRoute(): Route {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return parseRoute(hash);
}

export function href(view: string, id?: string, query?: Record<string, string>): string {
  const q = query ? `?${new URLSearchParams(query).toString()}` : '';
  return `#/${view}${id ? `/${encodeURIComponent(id)}` : ''}${q}`;
}

export function go(view: string, id?: string, query?: Record<string, string>): void {
  location.hash = href(view, id, query);
}
