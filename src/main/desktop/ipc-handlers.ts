// The desktop door for requests: one ipcMain handler that validates every request, then calls the controller.
import type { FilehaulApi, RequestName } from '../../shared/contract.ts';
import { ContractError, validateRequest } from '../../shared/validate.ts';
import { REQUEST_CHANNEL, type IpcInvokeEventLike, type IpcMainLike, type IpcReply } from './channels.ts';
import { redactSecrets } from './redact.ts';

/** What the window sees for a failure it did not cause: details go to the log, never a stack over IPC. */
export const GENERIC_ERROR = 'internal error (see the Filehaul log)';
export const UNTRUSTED_SENDER_ERROR = 'request refused: it did not come from the Filehaul window';

export interface DoorOptions {
  /** Only our own page may call in; anything else (a frame that navigated away, an injected one) is refused. */
  isTrustedSender?: (event: IpcInvokeEventLike) => boolean;
  /** Unexpected failures, for the log. */
  onError?: (error: unknown) => void;
  /** Strings cut out of every reply (the API key, whichever is current). */
  secrets?: () => readonly (string | null | undefined)[];
}

/** Registers the request handler; the returned function removes it again. */
export function registerRequestHandler(ipcMain: IpcMainLike, api: Pick<FilehaulApi, 'request'>, options: DoorOptions = {}): () => void {
  const request = api.request.bind(api) as (name: RequestName, args: unknown) => Promise<unknown>;
  ipcMain.handle(REQUEST_CHANNEL, (event, name, args) => answer(event, options, async () => {
    // Validated here, in the main process: the renderer's own checks are a convenience, not a defence.
    const valid = validateRequest(name, args);
    return request(valid.name, valid.args);
  }));
  return () => ipcMain.removeHandler(REQUEST_CHANNEL);
}

/** Runs one call for a window and turns its outcome into an IpcReply: result, contract message, or the generic error. */
export async function answer(event: IpcInvokeEventLike, options: DoorOptions, call: () => Promise<unknown>): Promise<IpcReply> {
  if (options.isTrustedSender && !options.isTrustedSender(event)) return { error: UNTRUSTED_SENDER_ERROR };
  // Read after the call: a setSettings may just have changed the key.
  const secrets = () => options.secrets?.() ?? [];
  try {
    const result = await call();
    return redactSecrets({ result }, secrets());
  } catch (error) {
    if (error instanceof ContractError) return { error: redactSecrets(error.message, secrets()) };
    options.onError?.(error);
    return { error: GENERIC_ERROR };
  }
}
