// Serves one authorized /api request: bounded JSON body, route, runtime validation, the contract call, a JSON reply.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestName } from '../../shared/contract.ts';
import { ContractError, validateRequest } from '../../shared/validate.ts';
import type { ContractHandler } from './handler.ts';
import { matchApiRoute } from './rest-routes.ts';

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

export interface ApiContext {
  handler: ContractHandler;
  bodyLimit: number;
  /** Unexpected failures (not contract errors) go here for logging; the client only sees a generic 500. */
  onError(error: unknown): void;
}

/** An HTTP answer decided before the handler runs (413, bad JSON…). */
class HttpProblem extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL, context: ApiContext): Promise<void> {
  const route = matchApiRoute(req.method ?? 'GET', url.pathname, url.searchParams);
  if (route.type === 'miss') {
    req.resume();
    sendJson(res, route.status, { error: route.error }, route.allow ? { allow: route.allow } : {});
    return;
  }
  try {
    let body: unknown;
    if (route.readsBody) body = await readJsonBody(req, context.bodyLimit);
    else req.resume();
    const { name, args } = validateRequest(route.name, route.args(body));
    const result = await context.handler.request(name as RequestName, args as never);
    if (route.style === 'rpc') sendJson(res, 200, { result: result ?? null });
    else if (result === undefined) sendEmpty(res, 204);
    else sendJson(res, 200, result);
  } catch (error) {
    if (error instanceof HttpProblem) {
      // The rest of an oversized body is not worth reading: answer, then let the connection go.
      sendJson(res, error.status, { error: error.message }, error.status === 413 ? { connection: 'close' } : {});
    } else if (error instanceof ContractError) {
      sendJson(res, 400, { error: error.message });
    } else {
      context.onError(error);
      sendJson(res, 500, { error: 'internal error (see the server log)' });
    }
  }
}

/** The whole body as JSON; undefined when empty. Counts bytes as they arrive, so a lying Content-Length cannot help. */
async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const tooLarge = () => new HttpProblem(413, `the request body is larger than ${limit} bytes`);
  if (Number(req.headers['content-length']) > limit) {
    req.resume();
    throw tooLarge();
  }
  const text = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      // Keep draining (not destroying) so the socket stays open long enough for the 413 to be read.
      req.off('data', onData);
      req.resume();
      reject(tooLarge());
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    // A client that hangs up mid-body is not a server fault: no log line, and nobody is left to read the 400.
    req.once('error', () => reject(new HttpProblem(400, 'the request body could not be read')));
  });
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpProblem(400, 'the request body is not valid JSON');
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    // Replies describe live state and may name files: never cache them anywhere.
    'cache-control': 'no-store',
  });
  res.end(text);
}

function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'cache-control': 'no-store' });
  res.end();
}
