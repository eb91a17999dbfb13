// Who may talk to the serve door: the access token (constant-time), the Host header (DNS rebinding) and the Origin header.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';

/** Browsers cannot set Authorization on a WebSocket, but they can offer subprotocols: the token rides in one of them. */
export const TOKEN_PROTOCOL_PREFIX = 'filehaul.token.';
/** The subprotocol the server selects, so the token is never echoed back in the handshake response. */
export const EVENTS_PROTOCOL = 'filehaul.v1';

export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Hashing both sides first gives equal lengths, so neither the content nor the length of the token leaks through timing. */
export function tokenMatches(given: string | null, expected: string): boolean {
  if (given === null) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export function bearerToken(req: IncomingMessage): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return match ? match[1] : null;
}

/**
 * The token offered as subprotocol `filehaul.token.<token>`. Chosen over `?token=` because query strings end up in
 * access logs, proxy logs and browser history; a header does not.
 */
export function subprotocolToken(req: IncomingMessage): string | null {
  const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((item) => item.trim());
  const carrier = offered.find((item) => item.startsWith(TOKEN_PROTOCOL_PREFIX));
  return carrier ? carrier.slice(TOKEN_PROTOCOL_PREFIX.length) : null;
}

export interface HostPolicy {
  /** The host the server was asked to bind, lower-cased, without brackets. */
  boundHost: string;
  port: number;
}

/**
 * DNS rebinding makes an attacker's name resolve to 127.0.0.1, so the browser sends `Host: evil.example:7420`.
 * Only the bound name, localhost and IP literals (which no rebinding can produce) are accepted, with our port.
 */
export function hostAllowed(hostHeader: string | undefined, policy: HostPolicy): boolean {
  if (!hostHeader) return false;
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+))(?::(\d+))?$/.exec(hostHeader.trim());
  // Browsers leave the port out only when it is the scheme's default.
  if (!match || Number(match[3] ?? 80) !== policy.port) return false;
  const name = (match[1] ?? match[2]).toLowerCase();
  if (name === policy.boundHost || name === 'localhost') return true;
  return isIP(name) !== 0;
}

/**
 * Same-origin only: a present Origin must be exactly our own scheme, host and port (the Host header, already
 * checked). `Origin: null` (sandboxed frames, file://) is refused too. Sec-Fetch-Site backs it up where sent.
 */
export function originAllowed(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  return origin === `http://${req.headers.host}`;
}
