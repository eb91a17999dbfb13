// Sends the controller's events to every window; progress is coalesced per download so a window gets ≤ ~10 batches a second.
import type { DownloadView, EventName, Events, FilehaulApi } from '../../shared/contract.ts';
import { EVENT_CHANNEL, EVENT_NAMES, type EventMessage, type WebContentsLike } from './channels.ts';
import { redactSecrets } from './redact.ts';

export const PROGRESS_INTERVAL_MS = 100;

export interface ForwardingOptions {
  /** Least time between two progress batches (default 100 ms). */
  intervalMs?: number;
  /** Strings cut out of every message (the API key). */
  secrets?: () => readonly (string | null | undefined)[];
  /** A window that could not take a message (crashed renderer, uncloneable payload), for the log. */
  onError?: (error: unknown) => void;
}

/**
 * Subscribes to every event of `api` and forwards it to the windows `targets()` lists at that moment. Returns a
 * function that unsubscribes and drops whatever progress is still pending.
 */
export function forwardEvents(api: Pick<FilehaulApi, 'on'>, targets: () => Iterable<WebContentsLike>, options: ForwardingOptions = {}): () => void {
  const interval = options.intervalMs ?? PROGRESS_INTERVAL_MS;
  // Newest view per download id: 100 raw updates of one download between batches become one entry.
  const pending = new Map<string, DownloadView>();
  let timer: NodeJS.Timeout | null = null;
  let lastFlush = Number.NEGATIVE_INFINITY;
  let stopped = false;

  const send = (message: EventMessage): void => {
    const safe = redactSecrets(message, options.secrets?.() ?? []);
    for (const target of targets()) {
      if (target.isDestroyed()) continue;
      try {
        target.send(EVENT_CHANNEL, safe);
      } catch (error) {
        options.onError?.(error);
      }
    }
  };

  const flush = (): void => {
    timer = null;
    if (stopped || pending.size === 0) return;
    lastFlush = Date.now();
    const downloads = [...pending.values()];
    pending.clear();
    send({ event: 'progress', payload: { downloads } });
  };

  const schedule = (): void => {
    if (timer || pending.size === 0) return;
    // After a quiet spell the batch goes out on the next tick (once the current burst is in); later ones wait their turn.
    timer = setTimeout(flush, Math.max(0, lastFlush + interval - Date.now()));
  };

  const handlers: { [Name in EventName]: (payload: Events[Name]) => void } = {
    progress: ({ downloads }) => {
      for (const download of downloads) pending.set(download.id, download);
      schedule();
    },
    // A state change or removal is newer than any progress still queued for that download: the stale view must
    // not arrive after it and undo it.
    changed: (payload) => {
      pending.delete(payload.download.id);
      send({ event: 'changed', payload });
    },
    removed: (payload) => {
      pending.delete(payload.id);
      send({ event: 'removed', payload });
    },
    notice: (payload) => send({ event: 'notice', payload }),
  };
  const subscribe = <Name extends EventName>(name: Name) => api.on(name, handlers[name] as (payload: Events[Name]) => void);
  const unsubscribers = EVENT_NAMES.map((name) => subscribe(name));

  return () => {
    stopped = true;
    for (const unsubscribe of unsubscribers) unsubscribe();
    if (timer) clearTimeout(timer);
    timer = null;
    pending.clear();
  };
}
