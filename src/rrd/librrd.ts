/**
 * librrd (librrd.so.8, Debian package librrd8) through koffi: the thread-safe `_r` calls that create
 * and update one local file. They are synchronous but touch only a small local file. librrd keeps its
 * error text per thread; every call here runs on the main thread, so clear → call → read is exact.
 */
import koffi from 'koffi';

export const LIBRRD_NAME = 'librrd.so.8';

/** What the writer needs of librrd: 0 or an error text (librrd's own message). */
export interface RrdLibrary {
  create(file: string, step: number, start: number, args: readonly string[]): string | null;
  update(file: string, values: string): string | null;
}

type CreateFn = (file: string, step: number, start: number, argc: number, argv: string[]) => number;
type UpdateFn = (file: string, template: string | null, argc: number, argv: string[]) => number;

/** Loads librrd; throws (with koffi's message) when the library is not installed. */
export function loadLibrrd(name = LIBRRD_NAME): RrdLibrary {
  const lib = koffi.load(name);
  // time_t and unsigned long are 64-bit on x86-64 Linux.
  const create = lib.func(
    'int rrd_create_r(const char *filename, unsigned long pdp_step, long last_up, int argc, const char **argv)',
  ) as CreateFn;
  const update = lib.func('int rrd_update_r(const char *filename, const char *tmplt, int argc, const char **argv)') as UpdateFn;
  const getError = lib.func('const char *rrd_get_error(void)') as () => string | null;
  const clearError = lib.func('void rrd_clear_error(void)') as () => void;

  const result = (rc: number, what: string): string | null => {
    if (rc === 0) return null;
    const text = getError();
    return text !== null && text !== '' ? text : `${what} failed (${rc})`;
  };
  return {
    create(file, step, start, args) {
      clearError();
      return result(create(file, step, start, args.length, [...args]), 'rrd_create');
    },
    update(file, values) {
      clearError();
      return result(update(file, null, 1, [values]), 'rrd_update');
    },
  };
}
