// The few words the main process shows itself (tray menu, notifications), in English and Simplified Chinese by OS locale.
export interface DesktopLabels {
  show: string;
  pauseAll: string;
  resumeAll: string;
  quit: string;
  downloadDone: string;
  downloadFailed: string;
  problem: string;
  /** Several notices that arrived together, summed up in one notification. */
  summary(done: number, failed: number): string;
}

const EN: DesktopLabels = {
  show: 'Show Filehaul',
  pauseAll: 'Pause all',
  resumeAll: 'Resume all',
  quit: 'Quit',
  downloadDone: 'Download complete',
  downloadFailed: 'Download failed',
  problem: 'Filehaul',
  summary: (done, failed) => [done ? `${done} finished` : '', failed ? `${failed} failed` : ''].filter(Boolean).join(', '),
};

const ZH: DesktopLabels = {
  show: '显示 Filehaul',
  pauseAll: '全部暂停',
  resumeAll: '全部继续',
  quit: '退出',
  downloadDone: '下载完成',
  downloadFailed: '下载失败',
  problem: 'Filehaul',
  summary: (done, failed) => [done ? `${done} 个已完成` : '', failed ? `${failed} 个失败` : ''].filter(Boolean).join('，'),
};

/** Labels for an OS locale such as "zh-CN" or "en-US" (Electron's app.getLocale()). */
export function labelsFor(locale: string): DesktopLabels {
  return locale.toLowerCase().startsWith('zh') ? ZH : EN;
}
