// Store entry point: the catalog's public surface, so other rooms import one module rather than its parts.
export { openCatalog, closeCatalog } from './database.ts';
export { runMigrations, getSchemaVersion, CatalogTooNewError } from './migrate.ts';
export { MIGRATIONS, type Migration } from './migrations/index.ts';
export {
  insertDownload,
  updateDownload,
  getDownload,
  findLatestBySource,
  listDownloads,
  deleteDownload,
  type DownloadPatch,
} from './downloads.ts';
export { loadSegments, saveSegments } from './segments.ts';
export { createJournal } from './journal.ts';
