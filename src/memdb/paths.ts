/**
 * Path rules of the tree (spec §2, §8.2, §8.6, §8.7). Paths are relative to the mount; a leading
 * '/' and repeated or trailing slashes are ignored. Pure string functions, no tree access.
 */

/** Components of a path, empty parts skipped. '', '.', '/' (the root) give []. */
export function splitPath(path: string): string[] {
  if (path === '.') return [];
  return path.split('/').filter((part) => part.length > 0);
}

/**
 * Follows the components of `path` (empty ones skipped, as splitPath does) from `start` with `step`;
 * undefined as soon as a step finds nothing. Without splitPath's arrays: lookups run per request.
 */
export function walkPath<T>(path: string, start: T, step: (at: T, name: string) => T | undefined): T | undefined {
  let node: T | undefined = start;
  let at = 0;
  while (at < path.length) {
    let end = path.indexOf('/', at);
    if (end < 0) end = path.length;
    if (end > at) {
      node = step(node, path.slice(at, end));
      if (node === undefined) return undefined;
    }
    at = end + 1;
  }
  return node;
}

/** The canonical form of a path: components joined by '/', no leading or trailing slash. */
export function normalizePath(path: string): string {
  return splitPath(path).join('/');
}

/** Base names that no operation may create or target (spec §2: '', '.', '..' -> EACCES). */
export function isForbiddenBaseName(name: string): boolean {
  return name === '' || name === '.' || name === '..';
}

/** `priv`, `priv/**`, `nodes/<any>/priv`, `nodes/<any>/priv/**` (spec §8.2). */
export function isPrivatePath(path: string): boolean {
  // Canonical paths (asked on every getattr) without splitting; anything else the general way.
  if (path.charCodeAt(0) === 0x2f || path.includes('//') || path.endsWith('/') || path === '.') {
    return isPrivateParts(splitPath(path));
  }
  if (path === 'priv' || path.startsWith('priv/')) return true;
  if (!path.startsWith('nodes/')) return false;
  const nodeEnd = path.indexOf('/', 6);
  if (nodeEnd < 0) return false;
  return path.startsWith('priv', nodeEnd + 1) && (path.length === nodeEnd + 5 || path.charCodeAt(nodeEnd + 5) === 0x2f);
}

export function isPrivateParts(parts: readonly string[]): boolean {
  if (parts.length >= 1 && parts[0] === 'priv') return true;
  return parts.length >= 3 && parts[0] === 'nodes' && parts[2] === 'priv';
}

/** Exactly `priv/lock/<name>`: a cluster-wide lock directory (spec §8.7). */
export function isLockDir(path: string): boolean {
  return isLockDirParts(splitPath(path));
}

export function isLockDirParts(parts: readonly string[]): boolean {
  return parts.length === 3 && parts[0] === 'priv' && parts[1] === 'lock';
}

export type GuestType = 'qemu' | 'lxc' | 'openvz';

export interface GuestConfigPath {
  node: string;
  type: GuestType;
  vmid: number;
}

const guestDirs: ReadonlyMap<string, GuestType> = new Map<string, GuestType>([
  ['qemu-server', 'qemu'],
  ['lxc', 'lxc'],
  ['openvz', 'openvz'],
]);

const MAX_VMID = 0xffffffff;

/** LDH host name: letters and digits, '-' allowed but not first or last; no dots (spec §8.6). */
export function isValidNodeName(name: string): boolean {
  return /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/.test(name);
}

/** `<vmid>.conf` with a decimal VMID starting 1-9 and at most 2^32-1; the VMID, else undefined. */
export function parseVmidFileName(name: string): number | undefined {
  const match = /^([1-9][0-9]{0,9})\.conf$/.exec(name);
  if (match === null) return undefined;
  const vmid = Number(match[1]);
  return vmid <= MAX_VMID ? vmid : undefined;
}

/** `nodes/<node>/<qemu-server|lxc|openvz>/<vmid>.conf` (spec §8.6), else undefined. */
export function parseGuestConfigPath(path: string): GuestConfigPath | undefined {
  return parseGuestConfigParts(splitPath(path));
}

export function parseGuestConfigParts(parts: readonly string[]): GuestConfigPath | undefined {
  if (parts.length !== 4 || parts[0] !== 'nodes') return undefined;
  const [, node, dir, file] = parts as [string, string, string, string];
  const type = guestDirs.get(dir);
  if (type === undefined || !isValidNodeName(node)) return undefined;
  const vmid = parseVmidFileName(file);
  return vmid === undefined ? undefined : { node, type, vmid };
}

/** The directory name under nodes/<node>/ that holds configs of a guest type. */
export function guestDirName(type: GuestType): string {
  return type === 'qemu' ? 'qemu-server' : type;
}
