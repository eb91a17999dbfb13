// Download rows: plain query functions over the catalog, mapping snake_case columns to the shared DownloadRecord.
import type Database from 'better-sqlite3';
import type { DownloadRecord, DownloadState, SourceKind } from '../../shared/model.ts';

export type DownloadPatch = Partial<Omit<DownloadRecord, 'id'>>;

/** A downloads row exactly as SQLite returns it. */
interface DownloadRow {
  id: string;
  source_kind: SourceKind;
  source_ref: string;
  api_base: string | null;
  filename: string | null;
  mime_type: string | null;
  size_bytes: number | null;
  created_at: string | null;
  etag: string | null;
  last_modified: string | null;
  range_supported: 0 | 1 | null;
  state: DownloadState;
  error: string | null;
  added_at: string;
  updated_at: string;
  completed_at: string | null;
  final_path: string | null;
  sha256: string | null;
  restart_count: number;
}

type Params = Record<string, string | number | null>;

/** Field → column. Typed as a full Record so adding a field to DownloadRecord without a column fails to compile. */
const COLUMNS: Record<keyof DownloadRecord, keyof DownloadRow> = {
  id: 'id',
  sourceKind: 'source_kind',
  sourceRef: 'source_ref',
  apiBase: 'api_base',
  filename: 'filename',
  mimeType: 'mime_type',
  sizeBytes: 'size_bytes',
  createdAt: 'created_at',
  etag: 'etag',
  lastModified: 'last_modified',
  rangeSupported: 'range_supported',
  state: 'state',
  error: 'error',
  addedAt: 'added_at',
  updatedAt: 'updated_at',
  completedAt: 'completed_at',
  finalPath: 'final_path',
  sha256: 'sha256',
  restartCount: 'restart_count',
};
const FIELDS = Object.keys(COLUMNS) as (keyof DownloadRecord)[];
const SELECT_COLUMNS = FIELDS.map((f) => COLUMNS[f]).join(', ');

interface Statements {
  insert: Database.Statement<[Params]>;
  get: Database.Statement<[string], DownloadRow>;
  findLatest: Database.Statement<[string, string, string | null], DownloadRow>;
  listAll: Database.Statement<[], DownloadRow>;
  listByStates: Database.Statement<[string], DownloadRow>;
  delete: Database.Statement<[string]>;
  /** Update statements keyed by the sorted set of patched fields; the engine patches a handful of shapes over and over. */
  updates: Map<string, Database.Statement<[Params]>>;
}

// These run about once a second per active download, so each connection prepares them once.
const cache = new WeakMap<Database.Database, Statements>();

function statements(db: Database.Database): Statements {
  let s = cache.get(db);
  if (!s) {
    s = {
      insert: db.prepare<[Params]>(
        `INSERT INTO downloads (${SELECT_COLUMNS}) VALUES (${FIELDS.map((f) => `@${f}`).join(', ')})`,
      ),
      get: db.prepare<[string], DownloadRow>(`SELECT ${SELECT_COLUMNS} FROM downloads WHERE id = ?`),
      // rowid breaks ties between rows added within the same millisecond, in insertion order.
      findLatest: db.prepare<[string, string, string | null], DownloadRow>(
        `SELECT ${SELECT_COLUMNS} FROM downloads
         WHERE source_kind = ? AND source_ref = ? AND api_base IS ?
         ORDER BY added_at DESC, rowid DESC LIMIT 1`,
      ),
      listAll: db.prepare<[], DownloadRow>(`SELECT ${SELECT_COLUMNS} FROM downloads ORDER BY added_at, id`),
      // One statement for any set of states: the list travels as a JSON array.
      listByStates: db.prepare<[string], DownloadRow>(
        `SELECT ${SELECT_COLUMNS} FROM downloads
         WHERE state IN (SELECT value FROM json_each(?))
         ORDER BY added_at, id`,
      ),
      delete: db.prepare<[string]>('DELETE FROM downloads WHERE id = ?'),
      updates: new Map(),
    };
    cache.set(db, s);
  }
  return s;
}

// better-sqlite3 refuses to bind booleans and undefined; everything else in a record binds as is.
function toParam(field: keyof DownloadRecord, value: unknown): string | number | null {
  if (value === undefined || value === null) return null;
  if (field === 'rangeSupported') return value ? 1 : 0;
  return value as string | number;
}

function toParams(record: DownloadRecord): Params {
  const params: Params = {};
  for (const f of FIELDS) params[f] = toParam(f, record[f]);
  return params;
}

function fromRow(row: DownloadRow): DownloadRecord {
  return {
    id: row.id,
    sourceKind: row.source_kind,
    sourceRef: row.source_ref,
    apiBase: row.api_base,
    filename: row.filename,
    mimeType: row.mime_type,
    sizeBytes: row.size_bytes,
    createdAt: row.created_at,
    etag: row.etag,
    lastModified: row.last_modified,
    rangeSupported: row.range_supported === null ? null : row.range_supported === 1,
    state: row.state,
    error: row.error,
    addedAt: row.added_at,
    updatedAt: row.updated_at,
    completedAt: row.completed_at,
    finalPath: row.final_path,
    sha256: row.sha256,
    restartCount: row.restart_count,
  };
}

export function insertDownload(db: Database.Database, record: DownloadRecord): void {
  statements(db).insert.run(toParams(record));
}

/**
 * Writes only the fields present in the patch (undefined counts as absent) and stamps updated_at with now
 * unless the patch carries its own updatedAt. Returns false when no download has that id.
 */
export function updateDownload(db: Database.Database, id: string, patch: DownloadPatch): boolean {
  const fields = (Object.keys(patch) as (keyof DownloadPatch)[]).filter((f) => patch[f] !== undefined);
  for (const f of fields) {
    // The patch can come from untyped callers (IPC); never let an unknown key become SQL.
    if (!(f in COLUMNS) || (f as string) === 'id') throw new Error(`updateDownload: unknown field "${f}".`);
  }
  if (!fields.includes('updatedAt')) fields.push('updatedAt');
  fields.sort();

  const s = statements(db);
  const key = fields.join(',');
  let stmt = s.updates.get(key);
  if (!stmt) {
    const sets = fields.map((f) => `${COLUMNS[f]} = @${f}`).join(', ');
    stmt = db.prepare<[Params]>(`UPDATE downloads SET ${sets} WHERE id = @id`);
    s.updates.set(key, stmt);
  }

  const params: Params = { id };
  for (const f of fields) params[f] = toParam(f, patch[f]);
  if (patch.updatedAt === undefined) params.updatedAt = new Date().toISOString();
  return stmt.run(params).changes > 0;
}

export function getDownload(db: Database.Database, id: string): DownloadRecord | undefined {
  const row = statements(db).get.get(id);
  return row && fromRow(row);
}

/** The most recently added download of this source; api_base null matches null, so URL sources compare cleanly. */
export function findLatestBySource(
  db: Database.Database,
  sourceKind: SourceKind,
  sourceRef: string,
  apiBase: string | null,
): DownloadRecord | undefined {
  const row = statements(db).findLatest.get(sourceKind, sourceRef, apiBase);
  return row && fromRow(row);
}

/** All downloads, oldest first; `states` narrows to those states (an empty list yields nothing). */
export function listDownloads(db: Database.Database, options: { states?: readonly DownloadState[] } = {}): DownloadRecord[] {
  const s = statements(db);
  const rows = options.states ? s.listByStates.all(JSON.stringify(options.states)) : s.listAll.all();
  return rows.map(fromRow);
}

/** Removes a download and, through ON DELETE CASCADE, its segments. Returns false when there was none. */
export function deleteDownload(db: Database.Database, id: string): boolean {
  return statements(db).delete.run(id).changes > 0;
}
