// The known migrations in order; the last one's version is the newest schema this build understands.
import type { Migration } from './types.ts';
import { migration001 } from './001-initial.ts';
import { migration002 } from './002-archive.ts';

export type { Migration } from './types.ts';

export const MIGRATIONS: readonly Migration[] = [migration001, migration002];
