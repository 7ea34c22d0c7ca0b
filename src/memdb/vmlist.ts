/**
 * The VMID list (spec §8.6): VMID -> (node, guest type), rebuilt from the tree and kept in step
 * with every create/delete/rename of a guest config. `version` counts changes; each guest carries
 * the counter value of its last registration (the .vmlist renderer shows both).
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

  /** True when `vmid` is registered with another node or guest type than `cfg` says. */
  registeredElsewhere(cfg: GuestConfigPath): boolean {
    const guest = this.guests.get(cfg.vmid);
    return guest !== undefined && (guest.node !== cfg.node || guest.type !== cfg.type);
  }

  register(cfg: GuestConfigPath): void {
    this.version++;
    this.guests.set(cfg.vmid, { node: cfg.node, type: cfg.type, version: this.version });
  }

  /** Remove `vmid` if it is registered exactly at `cfg`'s node and type. */
  unregister(cfg: GuestConfigPath): void {
    const guest = this.guests.get(cfg.vmid);
    if (guest !== undefined && guest.node === cfg.node && guest.type === cfg.type) {
      this.guests.delete(cfg.vmid);
      this.version++;
    }
  }

  /**
   * Replace the list with the configs found in the tree: regular files
   * `nodes/<node>/<qemu-server|lxc|openvz>/<vmid>.conf`. Returns the duplicate VMIDs found (the
   * first location wins), empty when the tree is consistent.
   */
  rebuild(root: Entry): { vmid: number; first: GuestConfigPath; second: GuestConfigPath }[] {
    this.version++;
    const found = new Map<number, VmGuest>();
    const duplicates: { vmid: number; first: GuestConfigPath; second: GuestConfigPath }[] = [];
    const nodes = root.children?.get('nodes');
    for (const nodeDir of nodes?.children?.values() ?? []) {
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
          found.set(vmid, { node: nodeDir.name, type, version: this.version });
        }
      }
    }
    this.guests = found;
    return duplicates;
  }
}
