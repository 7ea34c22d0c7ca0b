/**
 * The VMID list (spec §8.6): VMID -> (node, guest type), rebuilt from the tree and kept in step
 * with every change of a guest config. Two counters, as the reference's status.c keeps them:
 * `version` (the list's) goes up by one on every register, every delete and every rebuild; each
 * guest carries a value of a second counter that goes up by one for every guest inserted (register
 * or rebuild). PVE caches parsed guest configs keyed on that per-guest value.
 */
import { guestDirName, isValidNodeName, parseVmidFileName, type GuestConfigPath, type GuestType } from './paths';
import { DT_DIR, DT_REG, type Entry } from './types';

export interface VmGuest {
  node: string;
  type: GuestType;
  version: number;
}

export interface VmList {
  version: number;
  guests: Map<number, VmGuest>;
}

const guestTypes: readonly GuestType[] = ['qemu', 'lxc', 'openvz'];

export class VmRegistry implements VmList {
  version = 0;
  guests = new Map<number, VmGuest>();
  /** The last per-guest version handed out (never reset: a rebuild continues from it). */
  private guestCounter = 0;
  /** One string per node name: a name cut out of each config's path would be a copy per guest. */
  private readonly nodeNames = new Map<string, string>();

  /** True when `vmid` is registered with another node or guest type than `cfg` says. */
  registeredElsewhere(cfg: GuestConfigPath): boolean {
    const guest = this.guests.get(cfg.vmid);
    return guest !== undefined && (guest.node !== cfg.node || guest.type !== cfg.type);
  }

  /** Insert or replace the guest at `cfg`: list version + 1, the guest gets a new guest version. */
  register(cfg: GuestConfigPath): void {
    this.version++;
    this.guests.set(cfg.vmid, { node: this.nodeName(cfg.node), type: cfg.type, version: ++this.guestCounter });
  }

  /** Remove `vmid` wherever it is registered; the list version goes up even when it was not listed. */
  unregister(vmid: number): void {
    this.version++;
    this.guests.delete(vmid);
  }

  /**
   * Replace the list with the configs found in the tree: regular files
   * `nodes/<node>/<qemu-server|lxc|openvz>/<vmid>.conf`. Returns the duplicate VMIDs found (the
   * first location wins), empty when the tree is consistent. Without a `nodes` directory an empty
   * list is left as it is (version unchanged, as the reference, which returns early there); a list
   * that still has guests is emptied (version + 1) where the reference would keep serving them.
   */
  rebuild(root: Entry): { vmid: number; first: GuestConfigPath; second: GuestConfigPath }[] {
    const nodes = root.children?.get('nodes');
    if (nodes === undefined || nodes.children === null) {
      if (this.guests.size > 0) {
        this.version++;
        this.guests = new Map();
      }
      return [];
    }
    this.version++;
    const found = new Map<number, VmGuest>();
    const duplicates: { vmid: number; first: GuestConfigPath; second: GuestConfigPath }[] = [];
    for (const nodeDir of nodes.children.values()) {
      if (nodeDir.type !== DT_DIR || !isValidNodeName(nodeDir.name)) continue;
      for (const type of guestTypes) {
        const typeDir = nodeDir.children!.get(guestDirName(type));
        if (typeDir === undefined || typeDir.type !== DT_DIR) continue;
        for (const file of typeDir.children!.values()) {
          if (file.type !== DT_REG) continue;
          const vmid = parseVmidFileName(file.name);
          if (vmid === undefined) continue;
          const here = { node: nodeDir.name, type, vmid };
          const other = found.get(vmid);
          if (other !== undefined) {
            duplicates.push({ vmid, first: { node: other.node, type: other.type, vmid }, second: here });
            continue;
          }
          found.set(vmid, { node: nodeDir.name, type, version: ++this.guestCounter });
        }
      }
    }
    this.guests = found;
    this.nodeNames.clear();
    return duplicates;
  }

  private nodeName(name: string): string {
    const known = this.nodeNames.get(name);
    if (known !== undefined) return known;
    this.nodeNames.set(name, name);
    return name;
  }
}
