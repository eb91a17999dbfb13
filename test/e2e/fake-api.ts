// An in-page fake FilehaulApi for renderer tests and the benchmark: time moves only when the test calls __fake.tick().
// installFakeApi is passed to page.addInitScript, which sends its source text to the page: the functions that text is
// made of (wireFakeApi here, createFakeWorld and createFakeHandlers next to it) must not use anything from outside
// their own bodies (no imports, no module constants), only the types below, which are erased.
// Here: the options, the control a test gets, and the wiring (events, requests, the two window globals).
import type { DownloadView, EventName, Events, FilehaulApi } from '../../src/shared/contract.ts';
import { createFakeHandlers } from './fake-api-handlers.ts';
import { createFakeWorld } from './fake-api-world.ts';

export interface FakeOptions {
  door?: 'electron' | 'web';
  /** Provide openPath/showInFolder (desktop extras). */
  desktopActions?: boolean;
  demo?: boolean;
  /** A few downloads: one downloading, one queued waiting for a rate limit, one paused, one failed (none done). */
  seed?: boolean;
  /** This many extra downloads, all downloading and far from done (the benchmark). */
  active?: number;
  /** A synthetic archive month 2024-01 with this many files. */
  bigMonthRows?: number;
  /** Bytes per segment per tick. */
  chunk?: number;
}

export interface FakeCall {
  name: string;
  args: unknown;
}

export interface FakeControl {
  /** Advances time by n ticks of 100 ms and emits one progress batch per tick. */
  tick(n?: number): void;
  /** Ticks on a timer (benchmark); returns a stop function. */
  run(hz: number): () => void;
  calls: FakeCall[];
  opened: string[];
  /** Milliseconds spent making batches (the fake's own cost) and handing them to listeners (the page's store merge). */
  cost: { generateMs: number; deliverMs: number; ticks: number };
  download(id: string): DownloadView | undefined;
}

declare global {
  interface Window {
    __fake?: FakeControl;
  }
}

/** The fake proper, wired from its two parts, which it gets as arguments so that its source text stands alone. */
function wireFakeApi(options: FakeOptions, createWorld: typeof createFakeWorld, createHandlers: typeof createFakeHandlers): void {
  const o = { door: 'electron', desktopActions: true, demo: false, seed: true, active: 0, bigMonthRows: 0, chunk: 64_000, ...options };
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  const emit = <N extends EventName>(name: N, payload: Events[N]): void => {
    for (const l of listeners.get(name) ?? []) l(payload);
  };
  const calls: FakeCall[] = [];
  const opened: string[] = [];
  const world = createWorld(o, emit);
  const handlers = createHandlers(world, emit);
  const { downloads, copy, cost, tickOnce } = world;

  const api: FilehaulApi & Record<string, unknown> = {
    door: o.door,
    version: '0.1.0-test',
    request(name, args) {
      calls.push({ name, args: JSON.parse(JSON.stringify(args ?? {})) });
      // Replies arrive asynchronously, as over IPC or HTTP, and as copies: the page must never share the fake's objects.
      return new Promise((resolve, reject) => {
        queueMicrotask(() => {
          try {
            const handler = handlers[name] as (a: unknown) => unknown;
            resolve(structuredClone(handler(args ?? {})) as never);
          } catch (e) {
            reject(e);
          }
        });
      });
    },
    on(name, listener) {
      let set = listeners.get(name);
      if (!set) listeners.set(name, (set = new Set()));
      set.add(listener as (p: unknown) => void);
      return () => set.delete(listener as (p: unknown) => void);
    },
  };
  if (o.desktopActions) {
    api.openPath = async (p: string) => void opened.push(`open:${p}`);
    api.showInFolder = async (p: string) => void opened.push(`show:${p}`);
  }
  window.__FILEHAUL_FAKE_API__ = api as never;
  window.__fake = {
    tick(n = 1) {
      for (let i = 0; i < n; i++) tickOnce();
    },
    run(hz) {
      const timer = setInterval(tickOnce, 1000 / hz);
      return () => clearInterval(timer);
    },
    calls,
    opened,
    cost,
    download: (id) => {
      const live = downloads.get(id);
      return live ? copy(live.view) : undefined;
    },
  };
}

export function installFakeApi(options: FakeOptions): void {
  wireFakeApi(options, createFakeWorld, createFakeHandlers);
}
// page.addInitScript sends String(installFakeApi) to the page, where the imports above do not exist: the text it gets
// carries the three functions' own source instead, so the page runs the same code as a direct call in Node does.
installFakeApi.toString = (): string => `(options) => (${wireFakeApi})(options, ${createFakeWorld}, ${createFakeHandlers})`;
