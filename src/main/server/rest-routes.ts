// Maps /api paths to contract requests: the generic /api/rpc/<name> door and the small REST surface for scripts.
import { ContractError } from '../../shared/validate.ts';

/** A matched route: which contract request to make and how to build its args from the query and the JSON body. */
export interface ApiCall {
  type: 'call';
  /** rpc replies `{ result }`; rest replies the bare result (204 when there is none), which suits `curl | jq`. */
  style: 'rpc' | 'rest';
  /** Unchecked: the rpc door takes it from the path; validateRequest decides. */
  name: string;
  readsBody: boolean;
  args(body: unknown): unknown;
}

export interface ApiMiss {
  type: 'miss';
  status: 404 | 405;
  error: string;
  /** For 405: the methods the path does take. */
  allow?: string;
}

const DOWNLOAD_ACTIONS = new Set(['pause', 'resume', 'cancel', 'retry']);

export function matchApiRoute(method: string, pathname: string, query: URLSearchParams): ApiCall | ApiMiss {
  const parts = pathname.split('/').slice(2); // drop '' and 'api'
  const [first, second, third] = parts;
  const rest = (name: string, args: (body: unknown) => unknown, readsBody = false): ApiCall => ({ type: 'call', style: 'rest', name, readsBody, args });
  const only = (allowed: string, call: () => ApiCall): ApiCall | ApiMiss =>
    method === allowed ? call() : { type: 'miss', status: 405, error: `${method} is not allowed here (use ${allowed})`, allow: allowed };

  if (first === 'rpc' && parts.length === 2 && second) {
    return only('POST', () => ({ type: 'call', style: 'rpc', name: safeDecode(second), readsBody: true, args: (body) => body ?? {} }));
  }
  if (first === 'downloads' && parts.length === 1) {
    if (method === 'GET') return rest('listDownloads', () => ({}));
    return only('POST', () => rest('add', addArgs, true));
  }
  if (first === 'downloads' && parts.length === 3 && second && DOWNLOAD_ACTIONS.has(third)) {
    return only('POST', () => rest(third, () => ({ id: safeDecode(second) })));
  }
  if ((first === 'pause-all' || first === 'resume-all') && parts.length === 1) {
    return only('POST', () => rest(first === 'pause-all' ? 'pauseAll' : 'resumeAll', () => ({})));
  }
  if (first === 'remote' && parts.length === 1) {
    return only('GET', () => rest('listRemote', () => queryArgs(query, {})));
  }
  if (first === 'archive' && parts.length === 2 && second === 'months') {
    return only('GET', () => rest('archiveMonths', () => ({})));
  }
  if (first === 'archive' && parts.length === 1) {
    // ?search=text turns the month listing into a name search (optionally within the month).
    return only('GET', () => (query.has('search') ? rest('search', () => queryArgs(query, { search: 'text' })) : rest('archiveFiles', () => queryArgs(query, {}))));
  }
  if (first === 'verify' && parts.length === 1) {
    return only('POST', () => rest('verify', (body) => body ?? {}, true));
  }
  if (first === 'settings' && parts.length === 1) {
    if (method === 'GET') return rest('getSettings', () => ({}));
    return only('PATCH', () => rest('setSettings', (body) => body ?? {}, true));
  }
  // The path is not echoed: whatever a caller put there (a token, markup) stays out of the reply.
  return { type: 'miss', status: 404, error: 'no such API route' };
}

/** `{ "inputs": [...] }`, `{ "ids": [...] }`, `{ "urls": [...] }`, or several of them: one add request. */
function addArgs(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ContractError('POST /api/downloads takes a JSON object like {"ids": ["file_…"]} or {"urls": ["https://…"]}');
  }
  const fields = body as Record<string, unknown>;
  const inputs: unknown[] = [];
  for (const key of Object.keys(fields)) {
    if (key !== 'inputs' && key !== 'ids' && key !== 'urls') throw new ContractError(`POST /api/downloads takes "inputs", "ids" or "urls", not "${key.slice(0, 40)}"`);
    const list = fields[key];
    if (!Array.isArray(list)) throw new ContractError(`POST /api/downloads: "${key}" must be an array of strings`);
    inputs.push(...list.slice(0, 10_001));
  }
  return { inputs };
}

const NUMERIC_PARAMS = new Set(['offset', 'limit']);

/**
 * Query parameters become args under their own names (renamed where the REST name differs), so the validator
 * names an unknown or bad parameter. offset/limit digit strings become numbers; anything else stays a string.
 */
function queryArgs(query: URLSearchParams, renames: Record<string, string>): Record<string, unknown> {
  // No prototype: a parameter named __proto__ must stay a plain (and then refused) field.
  const args: Record<string, unknown> = Object.create(null);
  for (const key of new Set(query.keys())) {
    const value = query.get(key)!;
    const field = Object.hasOwn(renames, key) ? renames[key] : key;
    args[field] = NUMERIC_PARAMS.has(field) && /^\d{1,15}$/.test(value) ? Number(value) : value;
  }
  return args;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
