/**
 * The kernel names files by node id; PveFs works on paths. This table maps one to the other the
 * way libfuse's path-based API does: a node is (parent node, name), created by the first LOOKUP,
 * MKDIR or CREATE reply that names it, counted per reply, and dropped when the kernel FORGETs it.
 * Unlink and rename detach or move the name at once (libfuse's hard_remove: no .fuse_hidden files);
 * a detached node has no path until the kernel forgets it. Node ids are never reused in a mount.
 *
 * Every request turns a node id into a path, so paths are cached per node. A cached path stays
 * valid until a node with children is renamed or detached (which moves or ends every path below
 * it): that bumps a table-wide epoch and every cached path is computed again when next asked.
 */
import { walkPath } from '../../memdb/paths';
import { FUSE_ROOT_ID } from './abi';

interface Node {
  id: number;
  parent: number;
  name: string;
  /** LOOKUP-style replies not yet forgotten. */
  lookups: number;
  /** False once unlinked, removed or renamed over. */
  attached: boolean;
  /** Nodes whose parent this node is. */
  children: number;
  /** The path computed at `pathEpoch`, or null. */
  path: string | null;
  pathEpoch: number;
}

export class NodeTable {
  private readonly nodes = new Map<number, Node>();
  /** `${parent}/${name}` -> node id, attached nodes only. */
  private readonly byName = new Map<string, number>();
  private nextId = FUSE_ROOT_ID + 1;
  /** Bumped when paths below some node change; a node's cached path is valid only at this epoch. */
  private epoch = 0;

  constructor() {
    this.nodes.set(FUSE_ROOT_ID, newNode(FUSE_ROOT_ID, FUSE_ROOT_ID, ''));
  }

  get size(): number {
    return this.nodes.size;
  }

  /** The FUSE path of a node ("/", "/a/b"), or undefined for an unknown or detached node. */
  path(id: number): string | undefined {
    if (id === FUSE_ROOT_ID) return '/';
    const node = this.nodes.get(id);
    if (node === undefined || !node.attached) return undefined;
    if (node.path !== null && node.pathEpoch === this.epoch) return node.path;
    const dir = this.path(node.parent);
    if (dir === undefined) return undefined;
    node.path = dir === '/' ? `/${node.name}` : `${dir}/${node.name}`;
    node.pathEpoch = this.epoch;
    return node.path;
  }

  /** The path of `name` inside directory node `parent`, or undefined when the parent has none. */
  childPath(parent: number, name: string): string | undefined {
    const dir = this.path(parent);
    if (dir === undefined) return undefined;
    return dir === '/' ? `/${name}` : `${dir}/${name}`;
  }

  /** The node the kernel knows at a mount-relative path ("a/b"), or undefined when it has none. */
  idOf(path: string): number | undefined {
    return walkPath(path, FUSE_ROOT_ID, this.childIdOf);
  }

  private readonly childIdOf = (parent: number, name: string): number | undefined => this.childId(parent, name);

  /** The node the kernel knows as `name` in directory node `parent`, or undefined. */
  childId(parent: number, name: string): number | undefined {
    return this.byName.get(keyOf(parent, name));
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
    this.nodes.set(id, newNode(id, parent, name));
    this.byName.set(key, id);
    const dir = this.nodes.get(parent);
    if (dir !== undefined) dir.children++;
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
    const dir = this.nodes.get(node.parent);
    if (dir !== undefined) dir.children--;
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
    if (newParent !== node.parent) {
      const from = this.nodes.get(node.parent);
      if (from !== undefined) from.children--;
      const to = this.nodes.get(newParent);
      if (to !== undefined) to.children++;
    }
    node.parent = newParent;
    node.name = newName;
    node.path = null;
    if (node.children > 0) this.epoch++;
    this.byName.set(keyOf(newParent, newName), id);
  }

  private detach(node: Node): void {
    if (!node.attached) return;
    node.attached = false;
    node.path = null;
    if (node.children > 0) this.epoch++;
    const key = keyOf(node.parent, node.name);
    if (this.byName.get(key) === node.id) this.byName.delete(key);
  }
}

function newNode(id: number, parent: number, name: string): Node {
  return { id, parent, name, lookups: 1, attached: true, children: 0, path: null, pathEpoch: 0 };
}

function keyOf(parent: number, name: string): string {
  return `${parent}/${name}`;
}
