use strict; use warnings; use Fcntl; use Errno;
chdir '/etc/pve' or print "chdir failed: $!\n";
my $n = 0;
sub en { my $e = $!+0; $e ? do { no strict 'refs'; my ($nm) = grep { eval { &{"Errno::$_"}() == $e } } @Errno::EXPORT_OK; $nm // "E$e" } : 'OK' }
sub r { my ($w, $ok) = @_; printf "%03d %s => %s\n", $n++, $w, $ok ? 'OK' : en() }
for my $p (qw(storage.cfg priv/authkey.key priv/token.cfg .members .vmlist .clusterlog .version .rrd .debug local/pve-ssl.pem nodes/oracle-node/priv/pve-ssl.key nodes/oracle-node/qemu-server/100.conf)) {
  r("open r $p", open(my $fh, '<', $p)); r("open w $p", sysopen(my $wh, $p, O_WRONLY)); r("access x $p", -x $p); }
for my $d (qw(. priv nodes nodes/oracle-node/priv local priv/lock)) { r("opendir $d", opendir(my $dh, $d)); r("stat $d", stat($d)); r("chdir-able $d", -x $d) }
r("mkdir x", mkdir('x')); r("create f", sysopen(my $c, 'f.cfg', O_WRONLY|O_CREAT)); r("unlink storage.cfg", unlink('zzz-none')); r("rename", rename('storage.cfg', 'storage2.cfg'));
r("readlink local", defined readlink('local')); r("utime storage", utime(undef, undef, 'storage.cfg')); r("chmod storage", chmod(0640, 'storage.cfg')); r("chown", chown(0, 33, 'storage.cfg'));
r("mkdir lock", mkdir('priv/lock/u')); r("truncate", truncate('storage.cfg', 0));
