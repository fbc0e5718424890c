import type Database from 'better-sqlite3';
import { FleetError } from '../errors.js';
import { MIGRATIONS, type Migration } from './migrations.js';

/** The schema version fleet.db is at (`PRAGMA user_version`; 0 for a new file or one made before migrations). */
export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings the database up to the newest migration, each step in its own transaction
 * together with its user_version, so a crash leaves it at one version or the next.
 * A file from a newer fleetd is refused rather than used with a schema this one does not know.
 */
export function migrate(db: Database.Database, path: string, migrations: readonly Migration[] = MIGRATIONS): number {
  const latest = migrations.at(-1)?.version ?? 0;
  const current = schemaVersion(db);
  if (current > latest) {
    throw new FleetError(
      'bad_database',
      `${path} has schema version ${current}, newer than this fleetd knows (${latest}); run the fleetd that made it, or move the file away to start a new log`,
    );
  }
  for (const m of migrations) {
    if (m.version <= current) continue;
    try {
      db.transaction(() => {
        db.exec(m.sql);
        db.pragma(`user_version = ${m.version}`);
      })();
    } catch (e) {
      throw new FleetError('bad_database', `${path}: schema migration ${m.version} (${m.name}) failed: ${(e as Error).message}`, 500, { cause: e });
    }
  }
  return schemaVersion(db);
}
