// The window's locks: a strict CSP header, no permissions, no navigation away from our page, no new windows, no webviews.

/** Mirrors the <meta> CSP in src/renderer/index.html and adds what only a header can say (frame-ancestors). */
export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-src 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * A test for "is this our own page" (ignoring #hash and ?query, so reloads and in-page links pass). Anything
 * unparsable, or missing, is not ours.
 */
export function pageMatcher(pageUrl: string): (url: string | null | undefined) => boolean {
  const strip = (text: string): string => {
    const parsed = new URL(text);
    // file: URLs have the origin "null": compare protocol and path instead.
    return parsed.origin === 'null' ? `${parsed.protocol}${parsed.pathname}` : `${parsed.origin}${parsed.pathname}`;
  };
  const own = strip(pageUrl);
  return (url) => {
    if (!url) return false;
    try {
      return strip(url) === own;
    } catch {
      return false;
    }
  };
}

export interface PreventableEvent {
  preventDefault(): void;
}

/** The part of Electron's WebContents the guards need. */
export interface GuardableContents {
  on(event: 'will-navigate', listener: (event: PreventableEvent, url: string) => void): unknown;
  on(event: 'will-frame-navigate', listener: (event: PreventableEvent & { url: string; isMainFrame: boolean }) => void): unknown;
  on(event: 'will-attach-webview', listener: (event: PreventableEvent) => void): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
}

/**
 * Navigation stays on our page, every frame included; window.open and target=_blank links open nothing (links
 * to the outside world are not a feature of this app); <webview> cannot be attached.
 */
export function guardWebContents(contents: GuardableContents, isOwnPage: (url: string) => boolean): void {
  contents.on('will-navigate', (event, url) => {
    if (!isOwnPage(url)) event.preventDefault();
  });
  contents.on('will-frame-navigate', (event) => {
    if (!event.isMainFrame || !isOwnPage(event.url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

/** The part of Electron's Session the policy needs. */
export interface PolicySession {
  webRequest: {
    onHeadersReceived(listener: (details: { responseHeaders?: Record<string, string[]> }, callback: (response: { responseHeaders: Record<string, string[]> }) => void) => void): void;
  };
  setPermissionRequestHandler(handler: (webContents: unknown, permission: string, callback: (granted: boolean) => void) => void): void;
  setPermissionCheckHandler(handler: (webContents: unknown, permission: string) => boolean): void;
}

/** CSP on every response (the dev server's too) and every permission refused: the UI needs none of them. */
export function applySessionPolicy(session: PolicySession): void {
  session.webRequest.onHeadersReceived((details, callback) => {
    const headers = Object.fromEntries(Object.entries(details.responseHeaders ?? {}).filter(([name]) => name.toLowerCase() !== 'content-security-policy'));
    callback({ responseHeaders: { ...headers, 'Content-Security-Policy': [CSP] } });
  });
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
}
