// Runtime checks for every request a door receives: nothing reaches the engine unless its shape and limits are right.
import type { NetworkPreset, RequestName, Requests, SettingsPatch } from './contract.ts';
import { REQUEST_NAMES } from './contract.ts';

/** A request that breaks the contract. Its message is safe to show to the caller: it names the field, never echoes values. */
export class ContractError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContractError';
  }
}

/** A request whose name and args have been checked; args are fresh objects holding only the known fields. */
export type ValidRequest = { [Name in RequestName]: { name: Name; args: Requests[Name]['args'] } }[RequestName];

export const LIMITS = {
  inputsMax: 10_000,
  inputLength: 2048,
  idLength: 128,
  cursorLength: 512,
  remotePageMax: 1000,
  archivePageMax: 10_000,
  /** Offsets past this cannot index any real archive and only invite float trouble. */
  offsetMax: 1_000_000_000,
  searchLength: 256,
  apiKeyLength: 512,
  urlLength: 2048,
  connections: [1, 32],
  parallelFiles: [1, 64],
  requestsPerMinute: [1, 100_000],
  /** Bytes per second: 1 KiB/s up to 100 GB/s. */
  limitRate: [1024, 100_000_000_000],
} as const;

const PRESETS: readonly NetworkPreset[] = ['lan', 'cloud', 'cross-border'];
const SORTS = ['name', 'downloaded', 'size'] as const;
const DOWNLOAD_ID = /^[A-Za-z0-9_-]+$/;
const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;
// Printable ASCII without spaces: what API keys and opaque cursors are made of; keeps headers and URLs safe.
const PRINTABLE_TOKEN = /^[\x21-\x7e]+$/;

type Fields = Record<string, unknown>;

/** Checks a request's name and args; throws ContractError naming the first field that is wrong. */
export function validateRequest(name: unknown, args: unknown): ValidRequest {
  if (typeof name !== 'string' || !(REQUEST_NAMES as readonly string[]).includes(name)) {
    throw new ContractError(`unknown request (expected one of ${REQUEST_NAMES.join(', ')})`);
  }
  const requestName = name as RequestName;
  switch (requestName) {
    case 'add': {
      const fields = object(requestName, args, ['inputs'], ['inputs']);
      return { name: requestName, args: { inputs: inputList(fields.inputs) } };
    }
    case 'pause':
    case 'resume':
    case 'cancel':
    case 'retry': {
      const fields = object(requestName, args, ['id'], ['id']);
      return { name: requestName, args: { id: downloadId(`${requestName}.id`, fields.id) } };
    }
    case 'pauseAll':
    case 'resumeAll':
    case 'listDownloads':
    case 'archiveMonths':
    case 'getSettings':
      object(requestName, args, [], []);
      return { name: requestName, args: {} };
    case 'listRemote': {
      const fields = object(requestName, args, ['cursor', 'limit'], []);
      const result: Requests['listRemote']['args'] = {};
      if (fields.cursor !== undefined) result.cursor = fields.cursor === null ? null : token('listRemote.cursor', fields.cursor, LIMITS.cursorLength);
      if (fields.limit !== undefined) result.limit = integer('listRemote.limit', fields.limit, 1, LIMITS.remotePageMax);
      return { name: requestName, args: result };
    }
    case 'archiveFiles': {
      const fields = object(requestName, args, ['month', 'offset', 'limit', 'sort'], ['month']);
      const result: Requests['archiveFiles']['args'] = { month: month('archiveFiles.month', fields.month) };
      Object.assign(result, page(requestName, fields));
      if (fields.sort !== undefined) result.sort = oneOf('archiveFiles.sort', fields.sort, SORTS);
      return { name: requestName, args: result };
    }
    case 'search': {
      const fields = object(requestName, args, ['text', 'month', 'offset', 'limit'], ['text']);
      if (typeof fields.text !== 'string' || fields.text.length > LIMITS.searchLength) {
        throw new ContractError(`search.text must be a string of at most ${LIMITS.searchLength} characters`);
      }
      const result: Requests['search']['args'] = { text: fields.text };
      if (fields.month !== undefined) result.month = month('search.month', fields.month);
      Object.assign(result, page(requestName, fields));
      return { name: requestName, args: result };
    }
    case 'verify': {
      const fields = object(requestName, args, ['month'], []);
      return { name: requestName, args: fields.month === undefined ? {} : { month: month('verify.month', fields.month) } };
    }
    case 'setSettings':
      return { name: requestName, args: settingsPatch(args) };
  }
}

/** A plain object (not an array, not a class instance) with only the allowed keys and all the required ones. */
function object(name: string, value: unknown, allowed: readonly string[], required: readonly string[]): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ContractError(`${name} args must be an object`);
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) throw new ContractError(`${name} args must be a plain object`);
  const fields = value as Fields;
  for (const key of Object.keys(fields)) {
    // Getters could run code or throw while we read; JSON and structured clone never produce them.
    if (!('value' in Object.getOwnPropertyDescriptor(fields, key)!)) throw new ContractError(`${name}.${key.slice(0, 40)} must be a plain value`);
    if (!allowed.includes(key)) {
      const expected = allowed.length ? `allowed: ${allowed.join(', ')}` : 'it takes no fields';
      throw new ContractError(`${name} does not take the field "${key.slice(0, 40)}" (${expected})`);
    }
  }
  for (const key of required) {
    if (fields[key] === undefined) throw new ContractError(`${name}.${key} is required`);
  }
  return fields;
}

function inputList(value: unknown): string[] {
  const ok = Array.isArray(value)
    && value.length >= 1
    && value.length <= LIMITS.inputsMax
    && value.every((input) => typeof input === 'string' && input.length >= 1 && input.length <= LIMITS.inputLength);
  if (!ok) throw new ContractError(`add.inputs must be an array of 1–${LIMITS.inputsMax} non-empty strings of at most ${LIMITS.inputLength} characters`);
  return [...(value as string[])];
}

/** Download ids travel in URL paths (REST) and file names (.part): letters, digits, _ and - only. */
function downloadId(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > LIMITS.idLength || !DOWNLOAD_ID.test(value)) {
    throw new ContractError(`${field} must be a download id (1–${LIMITS.idLength} letters, digits, _ or -)`);
  }
  return value;
}

function token(field: string, value: unknown, maxLength: number): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength || !PRINTABLE_TOKEN.test(value)) {
    throw new ContractError(`${field} must be 1–${maxLength} printable characters without spaces`);
  }
  return value;
}

function integer(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ContractError(`${field} must be a whole number from ${min} to ${max}`);
  }
  return value;
}

function month(field: string, value: unknown): string {
  if (typeof value !== 'string' || !MONTH.test(value)) throw new ContractError(`${field} must be a month as YYYY-MM`);
  return value;
}

function oneOf<T extends string>(field: string, value: unknown, choices: readonly T[]): T {
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw new ContractError(`${field} must be one of ${choices.join(', ')}`);
  }
  return value as T;
}

function page(name: string, fields: Fields): { offset?: number; limit?: number } {
  const result: { offset?: number; limit?: number } = {};
  if (fields.offset !== undefined) result.offset = integer(`${name}.offset`, fields.offset, 0, LIMITS.offsetMax);
  if (fields.limit !== undefined) result.limit = integer(`${name}.limit`, fields.limit, 1, LIMITS.archivePageMax);
  return result;
}

/** An http(s) URL without credentials: the API base receives the key, so it must be a plain, parseable origin. */
function apiBaseUrl(field: string, value: unknown): string {
  const problem = `${field} must be an http:// or https:// URL of at most ${LIMITS.urlLength} characters, without user:password`;
  if (typeof value !== 'string' || value.length === 0 || value.length > LIMITS.urlLength) throw new ContractError(problem);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ContractError(problem);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username !== '' || url.password !== '') throw new ContractError(problem);
  return value;
}

function settingsPatch(args: unknown): SettingsPatch {
  const fields = object('setSettings', args, ['apiKey', 'apiBase', 'backupApiBase', 'connections', 'parallelFiles', 'requestsPerMinute', 'limitRate', 'preset', 'encrypt'], []);
  const patch: SettingsPatch = {};
  if (fields.apiKey !== undefined) patch.apiKey = fields.apiKey === null ? null : token('setSettings.apiKey', fields.apiKey, LIMITS.apiKeyLength);
  if (fields.apiBase !== undefined) patch.apiBase = apiBaseUrl('setSettings.apiBase', fields.apiBase);
  if (fields.backupApiBase !== undefined) patch.backupApiBase = fields.backupApiBase === null ? null : apiBaseUrl('setSettings.backupApiBase', fields.backupApiBase);
  if (fields.connections !== undefined) patch.connections = integer('setSettings.connections', fields.connections, ...LIMITS.connections);
  if (fields.parallelFiles !== undefined) patch.parallelFiles = integer('setSettings.parallelFiles', fields.parallelFiles, ...LIMITS.parallelFiles);
  if (fields.requestsPerMinute !== undefined) patch.requestsPerMinute = integer('setSettings.requestsPerMinute', fields.requestsPerMinute, ...LIMITS.requestsPerMinute);
  if (fields.limitRate !== undefined) patch.limitRate = fields.limitRate === null ? null : integer('setSettings.limitRate', fields.limitRate, ...LIMITS.limitRate);
  if (fields.preset !== undefined) patch.preset = oneOf('setSettings.preset', fields.preset, PRESETS);
  if (fields.encrypt !== undefined) {
    if (typeof fields.encrypt !== 'boolean') throw new ContractError('setSettings.encrypt must be true or false');
    patch.encrypt = fields.encrypt;
  }
  return patch;
}
