// The labels every lab object carries (containers, networks, volumes, images). Clean-up finds what
// to remove by these labels only: nothing without them is ever touched.
export const LABEL = {
  /** Present (value "1") on everything a lab cluster owns. */
  project: 'org.pmxcfs-ts.lab',
  /** Cluster name. */
  cluster: 'org.pmxcfs-ts.lab.cluster',
  /** Label space (default "default"): leftovers are cleaned per space. */
  space: 'org.pmxcfs-ts.lab.space',
  /** host:pid of the process that started the cluster, or "cli" for clusters meant to stay. */
  owner: 'org.pmxcfs-ts.lab.owner',
  created: 'org.pmxcfs-ts.lab.created',
  node: 'org.pmxcfs-ts.lab.node',
  nodeid: 'org.pmxcfs-ts.lab.nodeid',
  ip: 'org.pmxcfs-ts.lab.ip',
  subnet: 'org.pmxcfs-ts.lab.subnet',
  daemonArgs: 'org.pmxcfs-ts.lab.daemon-args',
  /** "1" when corosync runs at real-time priority as on a host (lab/realtime.ts). */
  realtime: 'org.pmxcfs-ts.lab.corosync-realtime',
  /** "1" on a replacement machine that starts nothing (replaceNode). */
  bare: 'org.pmxcfs-ts.lab.bare',
  /** Hash of the inputs of the node image (image label; containers carry the one they run). */
  imageInputs: 'org.pmxcfs-ts.lab.image-inputs',
} as const;

/** Object names: every cluster's objects start with pmxlab-<cluster> (the fixed lab uses node1.., pmxcfs-lab). */
export function objectPrefix(cluster: string): string {
  return `pmxlab-${cluster}`;
}

/** Cluster names: short, DNS- and corosync-safe. */
export function validClusterName(name: string): boolean {
  return /^[a-z0-9][a-z0-9-]{0,30}$/.test(name);
}
