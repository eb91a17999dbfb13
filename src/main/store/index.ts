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
export {
  recordArchivedFile,
  listMonths,
  listMonthFiles,
  searchArchive,
  getEntry,
  getEntryByPath,
  findEntriesBySource,
  deleteEntry,
  clearArchiveEntries,
  listMonthEntriesByPath,
  monthOfPath,
  isArchiveMonth,
  SEARCH_COUNT_CAP,
  DEFAULT_PAGE_SIZE,
  type ArchiveEntry,
  type NewArchiveEntry,
  type ArchiveSourceKind,
  type MonthSummary,
  type ArchiveSort,
  type MonthFilesOptions,
  type ArchivePage,
  type SearchOptions,
  type SearchMode,
  type SearchResult,
} from './archive-entries.ts';
export { markMonthDirty, listDirtyMonths, monthGenerations, claimManifestWrite, type DirtyMonth, type MonthGenerations } from './dirty-months.ts';
