// The app shell: header with the screen tabs, banners (demo data, lost link), the current screen, and notices.
import { useEffect, useRef, type KeyboardEvent } from 'react';
import { getBridge } from './bridge/index.ts';
import { Banners } from './components/Banners.tsx';
import { Notices } from './components/Notices.tsx';
import { AddScreen } from './features/add/AddScreen.tsx';
import { ArchiveScreen } from './features/archive/ArchiveScreen.tsx';
import { DownloadsScreen } from './features/downloads/DownloadsScreen.tsx';
import { RemoteScreen } from './features/remote/RemoteScreen.tsx';
import { SettingsScreen } from './features/settings/SettingsScreen.tsx';
import { useI18n, type MessageKey } from './i18n/index.ts';
import { useDownloads } from './state/downloads.ts';
import { SCREENS, useUi, type Screen } from './state/ui.ts';

const LABELS: Record<Screen, MessageKey> = {
  downloads: 'nav.downloads',
  add: 'nav.add',
  remote: 'nav.remote',
  archive: 'nav.archive',
  settings: 'nav.settings',
};

/** A live count next to "Downloads", so activity is visible from every screen. */
function ActiveCount() {
  const { fmt } = useI18n();
  const n = useDownloads((s) => s.totals.active + s.totals.queued);
  return n > 0 ? <span className="tab-count">{fmt.number(n)}</span> : null;
}

function Tabs() {
  const { t } = useI18n();
  const screen = useUi((s) => s.screen);
  const setScreen = useUi((s) => s.setScreen);
  const refs = useRef<Partial<Record<Screen, HTMLButtonElement | null>>>({});
  // Arrow keys move between tabs (roving tab index), the usual pattern for a tab list.
  const onKeyDown = (e: KeyboardEvent): void => {
    const i = SCREENS.indexOf(screen);
    const next =
      e.key === 'ArrowRight' ? SCREENS[(i + 1) % SCREENS.length]
      : e.key === 'ArrowLeft' ? SCREENS[(i + SCREENS.length - 1) % SCREENS.length]
      : e.key === 'Home' ? SCREENS[0]
      : e.key === 'End' ? SCREENS[SCREENS.length - 1]
      : null;
    if (!next) return;
    e.preventDefault();
    setScreen(next);
    refs.current[next]?.focus();
  };
  return (
    <div className="tabs" role="tablist" aria-label={t('nav.label')} onKeyDown={onKeyDown}>
      {SCREENS.map((s) => (
        <button
          key={s}
          ref={(el) => {
            refs.current[s] = el;
          }}
          type="button"
          role="tab"
          id={`tab-${s}`}
          aria-selected={screen === s}
          aria-controls="screen"
          tabIndex={screen === s ? 0 : -1}
          className="tab"
          onClick={() => setScreen(s)}
        >
          {t(LABELS[s])}
          {s === 'downloads' && <ActiveCount />}
        </button>
      ))}
    </div>
  );
}

function CurrentScreen() {
  const screen = useUi((s) => s.screen);
  switch (screen) {
    case 'downloads':
      return <DownloadsScreen />;
    case 'add':
      return <AddScreen />;
    case 'remote':
      return <RemoteScreen />;
    case 'archive':
      return <ArchiveScreen />;
    case 'settings':
      return <SettingsScreen />;
  }
}

export function App() {
  const { t, locale } = useI18n();
  const screen = useUi((s) => s.screen);
  const version = getBridge().version;
  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);
  return (
    <div className="app">
      <header className="app-header">
        <h1>
          Filehaul {version && <span className="app-version">{t('app.version', { version })}</span>}
        </h1>
        <Tabs />
      </header>
      <Banners />
      <main className="app-main" id="screen" role="tabpanel" aria-labelledby={`tab-${screen}`}>
        <CurrentScreen />
      </main>
      <Notices />
    </div>
  );
}
