// Row and toolbar commands: fire the request, let the engine's events update the rows, and surface failures as notices.
import { getBridge } from '../../bridge/index.ts';
import { reportError } from '../../state/notices.ts';

export type RowCommand = 'pause' | 'resume' | 'cancel' | 'retry';

export function runRowCommand(command: RowCommand, id: string): void {
  getBridge().api.request(command, { id }).catch(reportError);
}

export function runAll(command: 'pauseAll' | 'resumeAll'): void {
  getBridge().api.request(command, {}).catch(reportError);
}
