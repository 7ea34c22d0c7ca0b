// Address ranges for lab clusters (pure): every cluster gets its own /24 out of the project's block
// 172.30.0.0/16, never the fixed lab's 172.30.213.0/24 and never one that overlaps a network the
// engine already has.

export const BLOCK_PREFIX = '172.30'; // 172.30.0.0/16
/** The fixed compose lab (compose.yaml) keeps this one. */
export const RESERVED_THIRD_OCTETS: ReadonlySet<number> = new Set([213]);

export function subnetOf(third: number): string {
  return `${BLOCK_PREFIX}.${third}.0/24`;
}

/** A node's address in a cluster subnet: nodeN -> .10+N (node1 = .11, as in the fixed lab). */
export function nodeAddress(subnet: string, nodeid: number): string {
  const m = /^(\d+\.\d+\.\d+)\.0\/24$/.exec(subnet);
  if (!m) throw new Error(`not a /24 subnet: ${subnet}`);
  if (nodeid < 1 || nodeid > 200) throw new Error(`nodeid ${nodeid} out of range 1..200`);
  return `${m[1]}.${10 + nodeid}`;
}

function toInt(ip: string): number {
  const p = ip.split('.').map(Number);
  return ((p[0]! << 24) >>> 0) + (p[1]! << 16) + (p[2]! << 8) + p[3]!;
}

/** [first, last] address of a CIDR; null for anything that is not IPv4 CIDR. */
export function cidrRange(cidr: string): [number, number] | null {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(cidr.trim());
  if (!m) return null;
  const bits = Number(m[2]);
  if (bits < 0 || bits > 32) return null;
  const size = 2 ** (32 - bits);
  const start = Math.floor(toInt(m[1]!) / size) * size;
  return [start, start + size - 1];
}

export function overlaps(a: string, b: string): boolean {
  const x = cidrRange(a);
  const y = cidrRange(b);
  return x !== null && y !== null && x[0] <= y[1] && y[0] <= x[1];
}

/**
 * The candidate /24s not overlapping any subnet in use, in the order to try them: starting at
 * `startAt` and wrapping around, so that processes starting together (each with its own random
 * start) rarely race for the same one. The engine's refusal of an overlapping pool settles any race.
 */
export function freeSubnets(inUse: readonly string[], startAt = 0): string[] {
  const out: string[] = [];
  for (let i = 0; i < 256; i++) {
    const third = (startAt + i) % 256;
    if (RESERVED_THIRD_OCTETS.has(third)) continue;
    const s = subnetOf(third);
    if (!inUse.some((u) => overlaps(u, s))) out.push(s);
  }
  return out;
}
