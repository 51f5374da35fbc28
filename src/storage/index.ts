/** Storage: SQLite opening, migrations and the site database. See docs/storage.md. */
export { BUSY_TIMEOUT_MS, type Database, type OpenDatabaseOptions, openDatabase } from "./db.js";
export { checkMigrations, type Migration, migrate, schemaVersion } from "./migrate.js";
export {
  type ModemRecord,
  ModemRegistry,
  type ModemSighting,
  openSiteDatabase,
  type PinResult,
  pinHash,
  SITE_DB_FILE,
  SITE_MIGRATIONS,
} from "./siteDb.js";
