/** A database the tree cannot be built from; the message names the offending row. */
export class MemDbLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MemDbLoadError';
  }
}
