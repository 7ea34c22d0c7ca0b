/**
 * The virtual entries the "base plug" adds at the root of the mount (spec §8.1): four symlinks into
 * this node's directory and the status ("function") files. They shadow same-named memdb entries.
 */

export const VIRTUAL_LINK_NAMES = ['local', 'qemu-server', 'openvz', 'lxc'] as const;
export const STATUS_FILE_NAMES = ['.version', '.members', '.vmlist', '.rrd', '.clusterlog', '.debug'] as const;

export type VirtualLinkName = (typeof VIRTUAL_LINK_NAMES)[number];
export type StatusFileName = (typeof STATUS_FILE_NAMES)[number];

/** Where a mount-relative path lands. */
export type PathTarget =
  | { kind: 'link'; name: VirtualLinkName }
  | { kind: 'status'; name: StatusFileName }
  /** Below a virtual name (e.g. `.version/x`): nothing exists there and nothing may be made. */
  | { kind: 'below-virtual' }
  | { kind: 'memdb'; path: string };

const linkNames = new Set<string>(VIRTUAL_LINK_NAMES);
const statusNames = new Set<string>(STATUS_FILE_NAMES);

/** True for a root-level name that the base plug owns. */
export function isVirtualName(name: string): boolean {
  return linkNames.has(name) || statusNames.has(name);
}

/**
 * Normalises a FUSE path ("/a//b/") to the memdb form ("a/b") and says which plug serves it.
 * The kernel resolves the symlinks before asking, so `local/x` only arrives when someone bypasses it.
 */
export function resolvePath(fusePath: string): PathTarget {
  if (isCanonical(fusePath)) {
    // The node table's form ("/", "/a/b"): no split needed.
    const rest = fusePath.slice(1);
    const slash = rest.indexOf('/');
    const first = slash < 0 ? rest : rest.slice(0, slash);
    if (linkNames.has(first) || statusNames.has(first)) {
      if (slash >= 0) return { kind: 'below-virtual' };
      return linkNames.has(first)
        ? { kind: 'link', name: first as VirtualLinkName }
        : { kind: 'status', name: first as StatusFileName };
    }
    return { kind: 'memdb', path: rest };
  }
  const parts = fusePath.split('/').filter((p) => p.length > 0);
  const first = parts[0];
  if (first !== undefined && (linkNames.has(first) || statusNames.has(first))) {
    if (parts.length > 1) return { kind: 'below-virtual' };
    return linkNames.has(first)
      ? { kind: 'link', name: first as VirtualLinkName }
      : { kind: 'status', name: first as StatusFileName };
  }
  return { kind: 'memdb', path: parts.join('/') };
}

/** "/" or "/a/b": a leading slash, no empty component, no trailing slash. */
function isCanonical(fusePath: string): boolean {
  if (fusePath.charCodeAt(0) !== 0x2f) return false;
  if (fusePath.length === 1) return true;
  return fusePath.charCodeAt(fusePath.length - 1) !== 0x2f && !fusePath.includes('//');
}

/** Relative target of a virtual symlink for this node. */
export function linkTarget(name: VirtualLinkName, nodename: string): string {
  return name === 'local' ? `nodes/${nodename}` : `nodes/${nodename}/${name}`;
}
