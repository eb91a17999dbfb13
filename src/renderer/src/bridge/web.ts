// Browser door to `filehaul serve`: requests as POST /api/rpc/<name>, events over one WebSocket, both carrying the token.
import type { Bridge, LinkStatus } from './types.ts';
import type { EventName, Events, FilehaulApi, RequestName, Requests } from '../../../shared/contract.ts';

const TOKEN_KEY = 'filehaul.token';
/** Offered first and selected by the server, so the handshake response never echoes the token back. */
const EVENTS_PROTOCOL = 'filehaul.v1';
const MAX_BACKOFF_MS = 15_000;

/**
 * The server prints a URL ending in #token=…; take it, then scrub it from the address bar (and so from history
 * and screenshots). sessionStorage keeps it for reloads of this tab only.
 */
export function takeToken(loc: Location = window.location, history: History = window.history): string | null {
  const fromHash = new URLSearchParams(loc.hash.replace(/^#/, '')).get('token');
  if (fromHash) {
    try {
      sessionStorage.setItem(TOKEN_KEY, fromHash);
    } catch {
      // Storage can be disabled; the token still works until the tab is reloaded.
    }
    history.replaceState(history.state, '', loc.pathname + loc.search);
    return fromHash;
  }
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

/** Turns whatever the server put in {error} into a readable Error. */
function toError(error: unknown, status: number): Error {
  if (typeof error === 'string') return new Error(error);
  if (error && typeof error === 'object' && 'message' in error && typeof error.message === 'string') return new Error(error.message);
  return new Error(`HTTP ${status}`);
}

export function createWebBridge(): Bridge {
  const token = takeToken();
  const listeners = new Map<EventName, Set<(payload: never) => void>>();
  const statusListeners = new Set<(status: LinkStatus) => void>();
  let status: LinkStatus = token ? 'starting' : 'unauthorized';
  let socket: WebSocket | null = null;
  let attempt = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;

  const setStatus = (next: LinkStatus): void => {
    if (next === status) return;
    status = next;
    for (const l of statusListeners) l(next);
  };

  const connect = (): void => {
    if (!token || socket) return;
    if (timer) clearTimeout(timer);
    timer = null;
    const url = new URL('/api/events', location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    url.hash = '';
    // Browsers cannot set headers on a WebSocket; a subprotocol is the one field that carries the token outside the URL.
    const ws = new WebSocket(url, [EVENTS_PROTOCOL, `filehaul.token.${token}`]);
    socket = ws;
    ws.onopen = () => {
      attempt = 0;
      setStatus('open');
    };
    ws.onmessage = (message) => {
      let parsed: { event?: unknown; payload?: unknown };
      try {
        parsed = JSON.parse(String(message.data));
      } catch {
        return;
      }
      const set = typeof parsed.event === 'string' ? listeners.get(parsed.event as EventName) : undefined;
      if (set) for (const l of set) (l as (p: unknown) => void)(parsed.payload);
    };
    ws.onclose = () => {
      socket = null;
      if (status !== 'unauthorized') setStatus('connecting');
      // Exponential backoff with jitter so many tabs do not hammer a restarting server in step.
      const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** attempt) * (0.75 + Math.random() / 2);
      attempt = Math.min(attempt + 1, 10);
      timer = setTimeout(connect, delay);
    };
  };

  // Coming back online or to the tab is a good moment to retry at once instead of waiting out the backoff.
  const retryNow = (): void => {
    if (!socket && token) {
      attempt = 0;
      connect();
    }
  };
  window.addEventListener('online', retryNow);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') retryNow();
  });

  const api: FilehaulApi = {
    async request<Name extends RequestName>(name: Name, args: Requests[Name]['args']): Promise<Requests[Name]['reply']> {
      const res = await fetch(`/api/rpc/${encodeURIComponent(name)}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token ?? ''}` },
        body: JSON.stringify(args ?? {}),
      });
      if (res.status === 401) {
        setStatus('unauthorized');
        throw new Error('Not authorized: open the link printed by `filehaul serve` (it carries the access token).');
      }
      let body: { result?: unknown; error?: unknown } | null = null;
      try {
        body = await res.json();
      } catch {
        // A proxy error page or an empty body: reported by status below.
      }
      if (body && 'error' in body && body.error != null) throw toError(body.error, res.status);
      if (!res.ok || !body) throw toError(null, res.status);
      return body.result as Requests[Name]['reply'];
    },
    on<Name extends EventName>(name: Name, listener: (payload: Events[Name]) => void): () => void {
      let set = listeners.get(name);
      if (!set) listeners.set(name, (set = new Set()));
      set.add(listener as (payload: never) => void);
      return () => set.delete(listener as (payload: never) => void);
    },
  };

  connect();

  return {
    door: 'web',
    api,
    version: null,
    openPath: null,
    showInFolder: null,
    onStatus(listener) {
      statusListeners.add(listener);
      listener(status);
      return () => statusListeners.delete(listener);
    },
  };
}
