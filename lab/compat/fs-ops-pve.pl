#!/usr/bin/perl
use strict; use warnings; use Fcntl qw(:DEFAULT SEEK_SET SEEK_END SEEK_CUR); use IO::File; use IO::Handle;
chdir '/etc/pve' or die; my $n = 0;
sub out { printf "%03d %s\n", $n++, shift }
sub en { my $e = $!+0; $e ? do { no strict 'refs'; my ($nm) = grep { eval { &{"Errno::$_"}() == $e } } @Errno::EXPORT_OK; $nm // "E$e" } : 'OK' } use Errno;
sub ver { my ($f) = @_; open(my $fh, '<', '.version') or return 'ERR'; local $/; my $t = <$fh>; my ($v) = $t =~ /"\Q$f\E": (\d+)/; return $v // 'none' }
sub vml { open(my $fh, '<', '.vmlist') or return 'ERR'; local $/; my $t = <$fh>; my ($v) = $t =~ /"version": (\d+)/; return $v }
sub slurp { my $p = shift; open(my $fh, '<', $p) or return 'ERR:'.en(); local $/; my $d = <$fh>; $d // '' }
# PVE::Tools::file_set_contents pattern
my $v0 = ver('storage.cfg');
{ my $tmp = "storage.cfg.tmp.$$"; my $fh = IO::File->new($tmp, O_WRONLY|O_CREAT, 0640) or die; print $fh "dir: local\n\tpath /var/lib/vz\n"; $fh->close or die; out("rename tmp => ".(rename($tmp, 'storage.cfg') ? 'OK' : en())); }
out("storage.cfg version delta after file_set_contents: ".(ver('storage.cfg') - $v0));
# O_RDWR: write then read on the same fd before close; read from a second fd; fstat size
{ sysopen(my $fh, 'rw.cfg', O_RDWR|O_CREAT|O_TRUNC) or die; syswrite($fh, "abcdef"); sysseek($fh, 0, SEEK_SET); sysread($fh, my $b, 100); out("same fd read: $b");
  open(my $fh2, '<', 'rw.cfg'); local $/; my $c = <$fh2>; out("second fd read: ".($c//'')); out("fstat size: ".(stat($fh))[7]); out("stat size: ".(stat('rw.cfg'))[7]);
  syswrite($fh, "XY"); sysseek($fh, 0, SEEK_SET); sysread($fh, $b, 100); out("after more: $b"); $fh->sync; out("after fsync other fd: ".slurp('rw.cfg'));
  sysseek($fh, 100, SEEK_SET); my $r = sysread($fh, $b, 10); out("read beyond end: ".(defined $r ? $r : en())); close $fh; }
# ftruncate on an open fd
{ sysopen(my $fh, 'rw.cfg', O_RDWR) or die; truncate($fh, 3); out("after ftruncate: ".slurp('rw.cfg')); syswrite($fh, "Q"); close $fh; out("after write at 0: ".slurp('rw.cfg')); }
# counters: O_TRUNC rewrite of a guest config, utime, rename of a guest config
mkdir 'nodes/node1'; mkdir 'nodes/node1/qemu-server';
my $vm0 = vml();
{ open(my $fh, '>', 'nodes/node1/qemu-server/950.conf') or die; print $fh "name: x\n"; close $fh; } out("vmlist delta create: ".(vml() - $vm0)); $vm0 = vml();
{ open(my $fh, '>', 'nodes/node1/qemu-server/950.conf') or die; print $fh "name: y\n"; close $fh; } out("vmlist delta rewrite: ".(vml() - $vm0)); $vm0 = vml();
utime(1, 1, 'nodes/node1/qemu-server/950.conf'); out("vmlist delta utime: ".(vml() - $vm0)); $vm0 = vml();
{ my $tmp = "nodes/node1/qemu-server/950.conf.tmp.$$"; open(my $fh, '>', $tmp) or die; print $fh "name: z\n"; close $fh; rename($tmp, 'nodes/node1/qemu-server/950.conf'); } out("vmlist delta tmp+rename: ".(vml() - $vm0)); $vm0 = vml();
rename('nodes/node1/qemu-server/950.conf', 'nodes/node1/qemu-server/951.conf'); out("vmlist delta rename vmid: ".(vml() - $vm0)); $vm0 = vml();
unlink('nodes/node1/qemu-server/951.conf'); out("vmlist delta unlink: ".(vml() - $vm0));
my $u0 = ver('user.cfg'); { open(my $fh, '>', 'user.cfg.new') or die; print $fh "user:root\@pam:1:0::::::\n"; close $fh; rename('user.cfg.new', 'user.cfg') } out("user.cfg delta rename-over: ".(ver('user.cfg') - $u0));
$u0 = ver('user.cfg'); utime(undef, undef, 'user.cfg'); out("user.cfg delta utime: ".(ver('user.cfg') - $u0));
$u0 = ver('user.cfg'); { open(my $fh, '>>', 'user.cfg') or die; print $fh "x\n"; close $fh } out("user.cfg delta append: ".(ver('user.cfg') - $u0));
$u0 = ver('datacenter.cfg'); unlink('datacenter.cfg'); out("datacenter.cfg delta unlink: ".(ver('datacenter.cfg') - $u0));
$u0 = ver('datacenter.cfg'); { open(my $fh, '>', 'datacenter.cfg') or die; close $fh } out("datacenter.cfg delta create empty: ".(ver('datacenter.cfg') - $u0));
$u0 = ver('ha/fence.cfg'); mkdir 'ha'; { open(my $fh, '>', 'ha/fence.cfg') or die; print $fh "x"; close $fh } out("ha/fence.cfg delta create: ".(ver('ha/fence.cfg') - $u0));
# read a file while another fd has written but not closed (PVE never does, but tools might)
{ open(my $w, '>', 'partial.cfg') or die; $w->autoflush(1); print $w "part1"; out("stat while open: ".(stat('partial.cfg'))[7]); out("read while open: ".slurp('partial.cfg')); close $w }
# large file read in 4k chunks vs whole
{ open(my $w, '>', 'large.cfg'); print $w ('0123456789abcdef' x 40000); close $w; sysopen(my $r, 'large.cfg', O_RDONLY); my ($tot, $b) = (0); while (my $k = sysread($r, $b, 4096)) { $tot += $k } out("large read total: $tot"); }
# empty file behaviours
{ open(my $w, '>', 'empty.cfg'); close $w; out("empty size: ".(stat('empty.cfg'))[7]." blocks ".(stat('empty.cfg'))[12]); }
# directory listing sorted, with types
{ opendir(my $d, '.'); my @e = sort readdir($d); out("root sorted: @e"); }
unlink($_) for qw(rw.cfg partial.cfg large.cfg empty.cfg); system('rm -rf nodes/node1');
out("vmlist: ".slurp('.vmlist') =~ s/\n/|/gr);
