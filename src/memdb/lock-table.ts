/**
 * The lock table of spec §8.7: lock dir path -> (lock checksum, local time it was first seen).
 * Expiry is decided on the local clock only: a checksum seen unchanged for more than 120 s.
 */
export const CFS_LOCK_TIMEOUT = 120;

export interface LockInfo {
  csum: Buffer;
  /** Local time (s) when this checksum was first seen. */
  ltime: number;
}

export class LockTable {
  private readonly locks = new Map<string, LockInfo>();

  set(path: string, csum: Buffer, now: number): void {
    this.locks.set(path, { csum: Buffer.from(csum), ltime: now });
  }

  delete(path: string): void {
    this.locks.delete(path);
  }

  clear(): void {
    this.locks.clear();
  }

  get(path: string): LockInfo | undefined {
    return this.locks.get(path);
  }

  paths(): string[] {
    return [...this.locks.keys()];
  }

  /**
   * Unknown path or changed checksum: record (csum, now) and answer false. Same checksum seen
   * for more than CFS_LOCK_TIMEOUT seconds: true.
   */
  expired(path: string, csum: Buffer, now: number): boolean {
    const info = this.locks.get(path);
    if (info === undefined || !info.csum.equals(csum)) {
      this.set(path, csum, now);
      return false;
    }
    return now > info.ltime && now - info.ltime > CFS_LOCK_TIMEOUT;
  }
}
