import { FleetError } from '../errors.js';

/** SQLite result codes (and errnos) that mean the disk refused a write, not that the request was wrong. */
function failureKind(err: unknown): 'full' | 'io' | undefined {
  const code = String((err as { code?: unknown } | null)?.code ?? '');
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT') return 'full';
  if (code.startsWith('SQLITE_IOERR') || code === 'EIO') return 'io';
  return undefined;
}

/**
 * A write the disk refused (full, or a failed write or fsync), as the FleetError
 * `storage_full` (HTTP 507) that says what happened and what to do; undefined for any other
 * error. Nothing is lost: the failed write was rolled back and was never acknowledged.
 */
export function storageError(err: unknown, path: string): FleetError | undefined {
  if (err instanceof FleetError) return err.code === 'storage_full' ? err : undefined;
  const kind = failureKind(err);
  if (!kind) return undefined;
  const code = (err as { code: string }).code;
  const what =
    kind === 'full'
      ? `the disk holding ${path} is full (${code})`
      : `the disk refused a write or fsync to ${path} (${code}: ${(err as Error).message})`;
  return new FleetError(
    'storage_full',
    `fleetd could not store this: ${what}. Nothing was stored. Free space on that filesystem (or fix the disk); writes work again as soon as they can, without a restart. Reading events still works meanwhile.`,
    507,
  );
}

/** True when an error (classified or not) means the disk refused a write. */
export function isStorageFailure(err: unknown): boolean {
  return (err instanceof FleetError && err.code === 'storage_full') || failureKind(err) !== undefined;
}
