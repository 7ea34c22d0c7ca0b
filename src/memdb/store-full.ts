/**
 * Thrown by a TreeStore when a transaction could not be written because the disk is full. Nothing
 * was written (the transaction was rolled back) and the store stays usable: unlike any other store
 * failure this is transient, so MemDb answers ENOSPC for that one operation instead of setting its
 * sticky error flag, and the same operation succeeds once space has been freed.
 */
export class StoreFullError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreFullError';
  }
}
