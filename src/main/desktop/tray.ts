// The tray icon: Show, Pause all, Resume all and Quit, so downloads can be steered without the window.
import type { DesktopLabels } from './labels.ts';

export interface TrayActions {
  show(): void;
  pauseAll(): void;
  resumeAll(): void;
  quit(): void;
}

/** Structurally a subset of Electron's MenuItemConstructorOptions, so Menu.buildFromTemplate takes it as is. */
export interface TrayMenuItem {
  label?: string;
  type?: 'normal' | 'separator';
  click?: () => void;
}

/** The part of Electron's Tray used here. */
export interface TrayLike<Menu = unknown> {
  setToolTip(toolTip: string): void;
  setContextMenu(menu: Menu): void;
  on(event: 'click', listener: () => void): unknown;
  destroy(): void;
}

export interface TrayParts<Menu> {
  createTray(): TrayLike<Menu>;
  buildMenu(template: TrayMenuItem[]): Menu;
}

export function trayMenuTemplate(actions: TrayActions, labels: DesktopLabels): TrayMenuItem[] {
  return [
    { label: labels.show, click: () => actions.show() },
    { type: 'separator' },
    { label: labels.pauseAll, click: () => actions.pauseAll() },
    { label: labels.resumeAll, click: () => actions.resumeAll() },
    { type: 'separator' },
    { label: labels.quit, click: () => actions.quit() },
  ];
}

/** Creates the tray with its menu; a plain click shows the window (where the platform reports clicks at all). */
export function installTray<Menu>(parts: TrayParts<Menu>, actions: TrayActions, labels: DesktopLabels): TrayLike<Menu> {
  const tray = parts.createTray();
  tray.setToolTip('Filehaul');
  tray.setContextMenu(parts.buildMenu(trayMenuTemplate(actions, labels)));
  tray.on('click', () => actions.show());
  return tray;
}
