/**
 * `.vmlist` (spec §8.4, also IPC op 3): VMID -> (node, type, version).
 * Guests are printed in ascending VMID order (the reference's order is hash order, unspecified).
 */

export type GuestType = 'qemu' | 'lxc' | 'openvz';

export interface GuestInfo {
  node: string;
  type: GuestType;
  version: number;
}

export interface VmlistStatus {
  version: number;
  guests: Map<number, GuestInfo>;
}

export function renderVmlist(v: VmlistStatus): string {
  if (v.guests.size === 0) return `{\n"version": ${v.version >>> 0}\n\n}\n`;
  const ids = [...v.guests.keys()].sort((a, b) => a - b);
  const lines = ids.map((vmid) => {
    const g = v.guests.get(vmid)!;
    return `"${vmid >>> 0}": { "node": "${g.node}", "type": "${g.type}", "version": ${g.version >>> 0} }`;
  });
  return `{\n"version": ${v.version >>> 0},\n"ids": {\n${lines.join(',\n')}}\n\n}\n`;
}
