// A mistake in how a command was called: printed as one line, exit code 2. Kept alone so main.ts loads nothing heavy.
export class UsageError extends Error {}
