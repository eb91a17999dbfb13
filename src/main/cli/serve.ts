// `filehaul serve`: runs the engine headless behind the HTTP/WebSocket door and prints the one URL (with its token) to open.
import { isIP } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startDemoOrigin, type DemoOrigin } from '../demo/demo-origin.ts';
import type { ContractHandler, ControllerFactory } from '../server/handler.ts';
import { startServer, type RunningServer } from '../server/http-server.ts';
import type { CommandIo } from './get.ts';
import { COMMON_OPTIONS, serviceOptions, UsageError, type CommonValues } from './options.ts';

export const SERVE_HELP = `Usage: filehaul serve [options]

Runs Filehaul headless and serves the web UI and its API. Prints one line with the URL to open; the URL carries
a random access token (#token=...) that every /api request and the event socket must present.

Options:
  --host HOST            address to bind (default 127.0.0.1; anything else exposes the door to the network)
  --port N               port, 0 for any free one (default 7420)
  --dir DIR              data directory (default ./data, or ./data-demo with --demo)
  --api-base URL         Files API base (default https://api.anthropic.com)
  --api-key-file PATH    read the API key from a file instead of ANTHROPIC_API_KEY
  --demo                 serve a built-in sample Files API with a few dozen files; no key needed
  and every settings flag of filehaul get (--connections, --parallel-files, --rpm, --limit-rate, --config…);
  the environment and DIR/config.ini apply as for the other commands (not with --demo).
`;

/** The built renderer, relative to this file (src/main/cli → out/renderer). */
const STATIC_DIR = fileURLToPath(new URL('../../../out/renderer/', import.meta.url));

const { json: _json, ...SHARED_OPTIONS } = COMMON_OPTIONS;
const SERVE_OPTIONS = {
  ...SHARED_OPTIONS,
  host: { type: 'string', default: '127.0.0.1' },
  port: { type: 'string', default: '7420' },
  demo: { type: 'boolean', default: false },
} as const;

/** Flags that would point the demo somewhere real (or hand it a real key): refused together with --demo. */
const NOT_WITH_DEMO = ['api-base', 'api-key-file', 'backup-api-base'] as const;

/**
 * The serve command with the controller factory passed in (the real one lives in ../controller.ts). Resolves with
 * the exit code once Ctrl-C has closed the server, the controller and the demo origin, in that order.
 */
export async function runServeWith(args: readonly string[], io: CommandIo, createController: ControllerFactory): Promise<number> {
  const values = parseServeArgs(args);
  if (values.help) {
    io.stdout.write(SERVE_HELP);
    return 0;
  }
  const port = Number(values.port);
  if (!/^\d{1,5}$/.test(values.port) || port > 65_535) throw new UsageError(`--port must be a whole number from 0 to 65535, got "${values.port}"`);
  if (values.host.trim() === '') throw new UsageError('--host must not be empty');
  const conflict = values.demo ? NOT_WITH_DEMO.find((flag) => values[flag] !== undefined) : undefined;
  if (conflict) throw new UsageError(`--demo brings its own Files API and key: leave out --${conflict}`);

  let demo: DemoOrigin | null = null;
  let controller: (ContractHandler & { close(): Promise<void> }) | null = null;
  let server: RunningServer | null = null;
  let removeInterrupt: (() => void) | null = null;
  const warn = (line: string) => io.stderr.write(`filehaul: warning: ${line}\n`);
  try {
    const { host: _host, port: _port, demo: _demo, ...common } = values;
    // Demo data gets its own folder (unless --dir says otherwise) so sample files never land in the real archive,
    // and the environment is not read at all: no real key, no real endpoint is touched.
    const options = values.demo
      ? serviceOptions({ ...common, dir: common.dir ?? './data-demo', json: false }, {}, warn)
      : serviceOptions({ ...common, json: false }, process.env, warn);
    if (values.demo) {
      demo = await startDemoOrigin();
      options.apiBase = demo.url;
      options.apiKey = demo.apiKey;
      options.backupApiBase = null;
    }
    const apiKey = options.apiKey;
    controller = await createController({ ...options, demo: values.demo });
    server = await startServer({
      host: values.host,
      port,
      handler: controller,
      staticDir: STATIC_DIR,
      onError: (error) => io.stderr.write(`filehaul serve: unexpected error: ${scrub(error, apiKey)}\n`),
    }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') throw new Error(`port ${port} on ${values.host} is in use: pick another with --port (0 = any free port)`);
      if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') throw new Error(`cannot bind to --host ${values.host}: no such address on this machine`);
      throw error;
    });
    if (!isLoopback(values.host)) {
      io.stderr.write(`filehaul serve: warning: listening on ${values.host}, not loopback: anyone on the network who gets the token controls Filehaul\n`);
    }
    io.stdout.write(`Filehaul is serving at ${server.url}/#token=${server.token}${demo ? ' (demo data)' : ''}\n`);
    await new Promise<void>((resolve) => {
      removeInterrupt = io.onInterrupt(resolve);
    });
    return 0;
  } finally {
    (removeInterrupt as (() => void) | null)?.();
    // The door closes first so no request reaches a controller that is shutting down.
    await server?.close();
    await controller?.close();
    await demo?.close();
  }
}

type ServeValues = Omit<CommonValues, 'json'> & { host: string; port: string; demo: boolean };

function parseServeArgs(args: readonly string[]): ServeValues {
  try {
    const { values } = parseArgs({ args: [...args], options: SERVE_OPTIONS, allowPositionals: false, allowNegative: true, strict: true });
    return values as ServeValues;
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
}

function isLoopback(host: string): boolean {
  const name = host.replace(/^\[|\]$/g, '').toLowerCase();
  return name === 'localhost' || name === '::1' || (isIP(name) === 4 && name.startsWith('127.'));
}

/** Error text for the log, with the key cut out wherever an upstream message echoed it. */
function scrub(error: unknown, apiKey: string | null): string {
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return apiKey ? text.split(apiKey).join('[redacted]') : text;
}

/** `filehaul serve`: the engine headless behind the web door. */
export async function runServe(args: readonly string[], io: CommandIo): Promise<number> {
  const { createController } = await import('../controller.ts');
  return runServeWith(args, io, (options) => createController(options));
}
