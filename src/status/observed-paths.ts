/**
 * The files whose change counters appear in `.version` (spec §8.4), in the reference's fixed order.
 * Tools (pvestatd, the API) poll `.version` and re-read a config only when its counter moved.
 */
export const OBSERVED_PATHS: readonly string[] = Object.freeze([
  'corosync.conf',
  'corosync.conf.new',
  'storage.cfg',
  'user.cfg',
  'domains.cfg',
  'notifications.cfg',
  'priv/notifications.cfg',
  'priv/shadow.cfg',
  'priv/acme/plugins.cfg',
  'priv/tfa.cfg',
  'priv/token.cfg',
  'priv/wg-keys.cfg',
  'datacenter.cfg',
  'vzdump.cron',
  'vzdump.conf',
  'jobs.cfg',
  'ha/crm_commands',
  'ha/manager_status',
  'ha/resources.cfg',
  'ha/rules.cfg',
  'ha/groups.cfg',
  'ha/fence.cfg',
  'status.cfg',
  'replication.cfg',
  'ceph.conf',
  'sdn/vnets.cfg',
  'sdn/zones.cfg',
  'sdn/controllers.cfg',
  'sdn/subnets.cfg',
  'sdn/ipams.cfg',
  'sdn/mac-cache.json',
  'sdn/pve-ipam-state.json',
  'sdn/dns.cfg',
  'sdn/fabrics.cfg',
  'sdn/route-maps.cfg',
  'sdn/prefix-lists.cfg',
  'sdn/.running-config',
  'virtual-guest/cpu-models.conf',
  'virtual-guest/profiles.cfg',
  'firewall/cluster.fw',
  'mapping/directory.cfg',
  'mapping/pci.cfg',
  'mapping/usb.cfg',
]);

/**
 * Change counters of the observed paths. Pure bookkeeping: the memdb/FUSE layer calls
 * `pathChanged` after a successful write/truncate/create/mtime/delete of a path (and for both
 * ends of a rename), and `bumpAll` after every full tree (re)load. mkdir does not count.
 * Paths are relative to the mount root, without a leading slash; a leading slash is tolerated.
 * Counters are u32 like the reference's and wrap at 2^32.
 */
export class ObservedPathVersions {
  private readonly versions = new Map<string, number>(OBSERVED_PATHS.map((p) => [p, 0]));

  /** A full tree (re)load: start-up or sync commit. */
  bumpAll(): void {
    for (const [path, version] of this.versions) this.versions.set(path, (version + 1) >>> 0);
  }

  /** A change of exactly `path`; anything that is not an observed path is ignored. */
  pathChanged(path: string): void {
    const key = path.startsWith('/') ? path.replace(/^\/+/, '') : path;
    const version = this.versions.get(key);
    if (version !== undefined) this.versions.set(key, (version + 1) >>> 0);
  }

  /** Current counter of one path (undefined when not observed). */
  version(path: string): number | undefined {
    return this.versions.get(path);
  }

  /** All (path, counter) pairs in the fixed order of OBSERVED_PATHS. */
  entries(): [string, number][] {
    return OBSERVED_PATHS.map((p) => [p, this.versions.get(p) ?? 0]);
  }
}
