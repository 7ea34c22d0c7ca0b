/**
 * The kernel names files by node id; PveFs works on paths. This table maps one to the other the
 * way libfuse's path-based API does: a node is (parent node, name), created by the first LOOKUP,
 * MKDIR or CREATE reply that names it, counted per reply, and dropped when the kernel FORGETs it.
 * Unlink and rename detach or move the name at once (libfuse's hard_remove: no .fuse_hidden files);
 * a detached node has no path until the kernel forgets it. Node ids are never reused in a mount.
 */
import { FUSE_ROOT_ID } from './abi';

interface Node {
  id: number;
  parent: number;
  name: string;
  /** LOOKUP-style replies not yet forgotten. */
  lookups: number;
  /** False once unlinked, removed or renamed over. */
  attached: boolean;
}

export class NodeTable {
  private readonly nodes = new Map<number, Node>();
  /** `${parent}/${name}` -> node id, attached nodes only. */
  private readonly byName = new Map<string, number>();
  private nextId = FUSE_ROOT_ID + 1;

  constructor() {
    this.nodes.set(FUSE_ROOT_ID, { id: FUSE_ROOT_ID, parent: FUSE_ROOT_ID, name: '', lookups: 1, attached: true });
  }

  get size(): number {
    return this.nodes.size;
  }

  /** The FUSE path of a node ("/", "/a/b"), or undefined for an unknown or detached node. */
  path(id: number): string | undefined {
    if (id === FUSE_ROOT_ID) return '/';
    const names: string[] = [];
    let node = this.nodes.get(id);
    while (node !== undefined && node.id !== FUSE_ROOT_ID) {
      if (!node.attached) return undefined;
      names.push(node.name);
      node = this.nodes.get(node.parent);
    }
    if (node === undefined) return undefined;
    return '/' + names.reverse().join('/');
  }

  /** The path of `name` inside directory node `parent`, or undefined when the parent has none. */
  childPath(parent: number, name: string): string | undefined {
    const dir = this.path(parent);
    if (dir === undefined) return undefined;
    return dir === '/' ? `/${name}` : `${dir}/${name}`;
  }

  /** The node the kernel knows at a mount-relative path ("a/b"), or undefined when it has none. */
  idOf(path: string): number | undefined {
    let id = FUSE_ROOT_ID;
    for (const name of path.split('/')) {
      if (name === '') continue;
      const next = this.byName.get(keyOf(id, name));
      if (next === undefined) return undefined;
      id = next;
    }
    return id;
  }

  /** Every node id the kernel holds, the root included. */
  ids(): IterableIterator<number> {
    return this.nodes.keys();
  }

  /** Counts one more kernel reference to (parent, name), creating the node; returns its id. */
  remember(parent: number, name: string): number {
    const key = keyOf(parent, name);
    const existing = this.byName.get(key);
    if (existing !== undefined) {
      this.nodes.get(existing)!.lookups++;
      return existing;
    }
    const id = this.nextId++;
    this.nodes.set(id, { id, parent, name, lookups: 1, attached: true });
    this.byName.set(key, id);
    return id;
  }

  /** FORGET: drops `count` references; the node goes when none are left. */
  forget(id: number, count: number): void {
    if (id === FUSE_ROOT_ID) return;
    const node = this.nodes.get(id);
    if (node === undefined) return;
    node.lookups -= count;
    if (node.lookups > 0) return;
    this.detach(node);
    this.nodes.delete(id);
  }

  /** Unlink/rmdir succeeded: the name is gone; the node stays until forgotten. */
  removed(parent: number, name: string): void {
    const id = this.byName.get(keyOf(parent, name));
    if (id !== undefined) this.detach(this.nodes.get(id)!);
  }

  /** Rename succeeded: the node at the old name now has the new one; one at the target is detached. */
  renamed(parent: number, name: string, newParent: number, newName: string): void {
    if (parent === newParent && name === newName) return; // a rename onto itself changes nothing
    const id = this.byName.get(keyOf(parent, name));
    this.removed(newParent, newName);
    if (id === undefined) return;
    const node = this.nodes.get(id)!;
    this.byName.delete(keyOf(parent, name));
    node.parent = newParent;
    node.name = newName;
    this.byName.set(keyOf(newParent, newName), id);
  }

  private detach(node: Node): void {
    if (!node.attached) return;
    node.attached = false;
    const key = keyOf(node.parent, node.name);
    if (this.byName.get(key) === node.id) this.byName.delete(key);
  }
}

function keyOf(parent: number, name: string): string {
  return `${parent}/${name}`;
}
