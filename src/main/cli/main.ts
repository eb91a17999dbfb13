// The `filehaul` command line: picks the subcommand and turns every error into one plain line and an exit code.
import type { CommandIo } from './get.ts';
import { UsageError } from './usage-error.ts';

const HELP = `Filehaul — segmented, resumable, verified downloads from the Anthropic Files API and plain URLs.

Usage:
  filehaul get <file_id|url>... [options]   download into DIR/raw/YYYY-MM/ (see filehaul get --help)
  filehaul status [--dir DIR] [--json]      list what the catalog holds
  filehaul list [--json] [options]          list the account's files, marking archived ones (see filehaul list --help)
  filehaul sync [--dir DIR] [options]       download every downloadable account file not yet archived (see filehaul sync --help)
  filehaul config [--dir DIR] [--json]      show the effective settings and where each came from
  filehaul serve [--port N] [--demo]        web UI + HTTP API on 127.0.0.1:7420 (see filehaul serve --help)
  filehaul decrypt <file.age>... --out DIR  decrypt archived files (see filehaul decrypt --help)
  filehaul months [--dir DIR] [--json]      the archive's months with file counts and sizes
  filehaul ls [--month M] [--search TEXT]   a month's files, or files found by name (see filehaul ls --help)
  filehaul verify [--month YYYY-MM]         re-hash the archive; report missing, changed and unknown files
  filehaul reindex [--dir DIR]              rebuild the catalog from the manifests and the files
  filehaul --version
`;

type Command = (args: readonly string[], io: CommandIo) => Promise<number>;

/** Commands load on demand: `filehaul --version` should not pay for the HTTP client and the database driver. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  get: async () => (await import('./get.ts')).runGet,
  status: async () => (await import('./status.ts')).runStatus,
  list: async () => (await import('./list.ts')).runList,
  sync: async () => (await import('./sync.ts')).runSync,
  config: async () => (await import('./config-command.ts')).runConfig,
  months: async () => (await import('./archive-commands.ts')).runMonths,
  ls: async () => (await import('./archive-commands.ts')).runLs,
  verify: async () => (await import('./archive-commands.ts')).runVerify,
  reindex: async () => (await import('./archive-commands.ts')).runReindex,
  serve: async () => (await import('./serve.ts')).runServe,
  decrypt: async () => (await import('./decrypt-command.ts')).runDecrypt,
};

export async function main(args: readonly string[], io: CommandIo = processIo()): Promise<number> {
  const [command, ...rest] = args;
  try {
    if (command !== undefined && Object.hasOwn(COMMANDS, command)) return await (await COMMANDS[command]())(rest, io);
    switch (command) {
      case '--version':
      case '-v':
        io.stdout.write('filehaul 0.1.0\n');
        return 0;
      case undefined:
      case 'help':
      case '--help':
      case '-h': {
        const { GET_HELP } = await import('./get.ts');
        io.stdout.write(command === undefined ? HELP : `${HELP}\n${GET_HELP}`);
        return command === undefined ? 2 : 0;
      }
      default:
        throw new UsageError(`unknown command "${command}" (try filehaul --help)`);
    }
  } catch (error) {
    // Messages may quote server text or file names: control characters never reach the terminal.
    io.stderr.write(`filehaul: ${(error instanceof Error ? error.message : String(error)).replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')}\n`);
    // A mistake in how Filehaul was called or configured (flags, environment, config.ini) is a usage error.
    return error instanceof UsageError || (error as Error | null)?.name === 'SettingsError' ? 2 : 1;
  }
}

function processIo(): CommandIo {
  return {
    stdout: { write: (text) => void process.stdout.write(text), isTTY: Boolean(process.stdout.isTTY), columns: process.stdout.columns },
    stderr: { write: (text) => void process.stderr.write(text), isTTY: Boolean(process.stderr.isTTY) },
    onInterrupt(handler) {
      let count = 0;
      const onSignal = () => {
        count++;
        // A second Ctrl-C means "now": offsets confirmed so far are already safe in the catalog.
        if (count > 1) process.exit(130);
        handler();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      return () => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      };
    },
  };
}
