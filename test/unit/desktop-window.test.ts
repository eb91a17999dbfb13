// The window's locks over a FAKE webContents and session (Electron cannot run here): navigation, popups, webviews, CSP, permissions.
import { describe, expect, it, vi } from 'vitest';
import { CSP, applySessionPolicy, guardWebContents, pageMatcher, type GuardableContents, type PolicySession, type PreventableEvent } from '../../src/main/desktop/window-security.ts';

/** Stands in for webContents: keeps the listeners so the test can fire the events Electron would. */
function fakeContents() {
  const listeners = new Map<string, (...args: never[]) => void>();
  let openHandler: ((details: { url: string }) => { action: string }) | null = null;
  const contents = {
    on(event: string, listener: (...args: never[]) => void) {
      listeners.set(event, listener);
      return contents;
    },
    setWindowOpenHandler(handler: (details: { url: string }) => { action: string }) {
      openHandler = handler;
    },
  };
  const fire = (name: string, ...args: unknown[]): boolean => {
    const event: PreventableEvent = { preventDefault: vi.fn() };
    const first = args.length && typeof args[0] === 'object' ? Object.assign(event, args.shift()) : event;
    (listeners.get(name) as (...args: unknown[]) => void)(first, ...args);
    return (event.preventDefault as ReturnType<typeof vi.fn>).mock.calls.length > 0;
  };
  return { contents: contents as unknown as GuardableContents, fire, open: (url: string) => openHandler?.({ url }) };
}

describe('window guards', () => {
  const isOwnPage = pageMatcher('file:///opt/Filehaul/resources/app.asar/out/renderer/index.html');

  it('allows our own page (with any #hash or ?query) and blocks every other navigation', () => {
    const { contents, fire } = fakeContents();
    guardWebContents(contents, isOwnPage);
    expect(fire('will-navigate', 'file:///opt/Filehaul/resources/app.asar/out/renderer/index.html#/archive')).toBe(false);
    expect(fire('will-navigate', 'file:///opt/Filehaul/resources/app.asar/out/renderer/index.html?x=1')).toBe(false);
    for (const url of ['https://evil.example/', 'file:///etc/passwd', 'file:///opt/Filehaul/resources/app.asar/out/renderer/other.html', 'javascript:alert(1)', 'not a url']) {
      expect(fire('will-navigate', url), url).toBe(true);
    }
  });

  it('blocks sub-frame navigation, webviews and every new window', () => {
    const { contents, fire, open } = fakeContents();
    guardWebContents(contents, isOwnPage);
    expect(fire('will-frame-navigate', { url: 'https://evil.example/', isMainFrame: false })).toBe(true);
    expect(fire('will-frame-navigate', { url: 'file:///opt/Filehaul/resources/app.asar/out/renderer/index.html', isMainFrame: false })).toBe(true);
    expect(fire('will-frame-navigate', { url: 'file:///opt/Filehaul/resources/app.asar/out/renderer/index.html', isMainFrame: true })).toBe(false);
    expect(fire('will-attach-webview')).toBe(true);
    expect(open('https://example.com')).toEqual({ action: 'deny' });
    expect(open('file:///opt/Filehaul/resources/app.asar/out/renderer/index.html')).toEqual({ action: 'deny' });
  });

  it('matches a dev server page by origin and path', () => {
    const own = pageMatcher('http://localhost:5173/');
    expect(own('http://localhost:5173/#token')).toBe(true);
    expect(own('http://localhost:5174/')).toBe(false);
    expect(own(undefined)).toBe(false);
    expect(own(null)).toBe(false);
  });

  it('puts the strict CSP on every response, replacing any other, and refuses every permission', () => {
    let onHeaders: Parameters<PolicySession['webRequest']['onHeadersReceived']>[0] | null = null;
    let onRequest: Parameters<PolicySession['setPermissionRequestHandler']>[0] | null = null;
    let onCheck: Parameters<PolicySession['setPermissionCheckHandler']>[0] | null = null;
    applySessionPolicy({
      webRequest: { onHeadersReceived: (listener) => (onHeaders = listener) },
      setPermissionRequestHandler: (handler) => (onRequest = handler),
      setPermissionCheckHandler: (handler) => (onCheck = handler),
    });
    const callback = vi.fn();
    onHeaders!({ responseHeaders: { 'content-type': ['text/html'], 'content-security-policy': ["default-src *"] } }, callback);
    expect(callback).toHaveBeenCalledWith({ responseHeaders: { 'content-type': ['text/html'], 'Content-Security-Policy': [CSP] } });
    expect(CSP).toContain("script-src 'self'");
    expect(CSP).toContain("object-src 'none'");
    expect(CSP).not.toMatch(/script-src[^;]*'unsafe-(inline|eval)'/);
    const granted = vi.fn();
    for (const permission of ['notifications', 'media', 'geolocation', 'clipboard-read', 'openExternal']) onRequest!(null, permission, granted);
    expect(granted.mock.calls.every(([value]) => value === false)).toBe(true);
    expect(onCheck!(null, 'notifications')).toBe(false);
  });
});
