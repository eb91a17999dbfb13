// Placeholder main view: names the app and shows where downloads will go until the real UI lands.
import type { FilehaulBridge } from '../../preload/index.ts';

declare global {
  interface Window {
    // Optional because the renderer can also be opened in a plain browser (vite dev) where no preload runs.
    readonly filehaul?: FilehaulBridge;
  }
}

export function App() {
  const version = window.filehaul?.version;
  return (
    <div className="app">
      <header className="app-header">
        <h1>Filehaul</h1>
        {version && <span className="app-version">v{version}</span>}
      </header>
      <main className="app-main">
        <section className="empty-state" aria-labelledby="empty-title">
          <h2 id="empty-title">No downloads yet</h2>
          <p>Your downloads will appear here.</p>
        </section>
      </main>
    </div>
  );
}
