// Tray menu and notifications with FAKE Tray/Menu/Notification stand-ins (Electron cannot run here).
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Events, FilehaulApi } from '../../src/shared/contract.ts';
import { labelsFor } from '../../src/main/desktop/labels.ts';
import { notifyOnNotices, type DesktopNote } from '../../src/main/desktop/notifications.ts';
import { installTray, trayMenuTemplate, type TrayMenuItem } from '../../src/main/desktop/tray.ts';

const en = labelsFor('en-US');

describe('tray', () => {
  it('offers Show, Pause all, Resume all and Quit, each wired to its action', () => {
    const actions = { show: vi.fn(), pauseAll: vi.fn(), resumeAll: vi.fn(), quit: vi.fn() };
    const items = trayMenuTemplate(actions, en).filter((item) => item.type !== 'separator');
    expect(items.map((item) => item.label)).toEqual(['Show Filehaul', 'Pause all', 'Resume all', 'Quit']);
    for (const item of items) item.click?.();
    for (const action of Object.values(actions)) expect(action).toHaveBeenCalledTimes(1);
  });

  it('installs the icon with its tooltip and menu; a click shows the window', () => {
    const actions = { show: vi.fn(), pauseAll: vi.fn(), resumeAll: vi.fn(), quit: vi.fn() };
    const clicks: (() => void)[] = [];
    // Stands in for Electron's Tray and Menu.buildFromTemplate.
    const tray = { setToolTip: vi.fn(), setContextMenu: vi.fn(), on: vi.fn((_event: 'click', listener: () => void) => clicks.push(listener)), destroy: vi.fn() };
    const built: TrayMenuItem[][] = [];
    installTray({ createTray: () => tray, buildMenu: (template) => (built.push(template), { menu: template }) }, actions, labelsFor('zh-CN'));
    expect(tray.setToolTip).toHaveBeenCalledWith('Filehaul');
    expect(tray.setContextMenu).toHaveBeenCalledWith({ menu: built[0] });
    expect(built[0].map((item) => item.label).filter(Boolean)).toEqual(['显示 Filehaul', '全部暂停', '全部继续', '退出']);
    clicks[0]();
    expect(actions.show).toHaveBeenCalledTimes(1);
  });
});

describe('notifications', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function setup() {
    const emitter = new EventEmitter();
    const api: Pick<FilehaulApi, 'on'> = {
      on(name, listener) {
        emitter.on(name, listener);
        return () => emitter.off(name, listener);
      },
    };
    const shown: DesktopNote[] = [];
    const stop = notifyOnNotices(api, (note) => shown.push(note), en);
    const notice = (payload: Events['notice']) => emitter.emit('notice', payload);
    return { shown, stop, notice, emitter };
  }

  it('notifies when a download completes or fails', async () => {
    const { shown, notice } = setup();
    notice({ level: 'info', message: 'report.pdf is in the archive', downloadId: 'dl_1' });
    await vi.advanceTimersByTimeAsync(2000);
    notice({ level: 'error', message: 'big.bin: 404 File not found', downloadId: 'dl_2' });
    await vi.advanceTimersByTimeAsync(2000);
    expect(shown).toEqual([
      { title: 'Download complete', body: 'report.pdf is in the archive', downloadId: 'dl_1' },
      { title: 'Download failed', body: 'big.bin: 404 File not found', downloadId: 'dl_2' },
    ]);
  });

  it('sums up a burst in one notification, leads with the first failure, and skips chatter', async () => {
    const { shown, notice } = setup();
    notice({ level: 'info', message: 'catalog reindexed' });
    for (let i = 0; i < 5; i++) notice({ level: 'info', message: `f${i} is in the archive`, downloadId: `dl_${i}` });
    notice({ level: 'error', message: 'f9: connection reset', downloadId: 'dl_9' });
    await vi.advanceTimersByTimeAsync(2000);
    expect(shown).toEqual([{ title: 'Download failed', body: '5 finished, 1 failed — f9: connection reset' }]);
  });

  it('reports problems that concern no single download, and stops cleanly', async () => {
    const { shown, notice, stop, emitter } = setup();
    notice({ level: 'error', message: 'The catalog is unreadable' });
    stop();
    await vi.advanceTimersByTimeAsync(2000);
    expect(shown).toEqual([]);
    expect(emitter.listenerCount('notice')).toBe(0);
    const again = setup();
    again.notice({ level: 'error', message: 'The catalog is unreadable' });
    await vi.advanceTimersByTimeAsync(2000);
    expect(again.shown).toEqual([{ title: 'Filehaul', body: 'The catalog is unreadable' }]);
  });
});
