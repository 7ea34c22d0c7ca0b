#!/usr/bin/perl
# Runs one fixed sequence of file operations under /etc/pve and prints one line per step.
use strict; use warnings; use Fcntl qw(:DEFAULT :mode SEEK_SET SEEK_END); use POSIX qw(mkfifo);
use Errno;
my $R = '/etc/pve';
chdir $R or die;
my $n = 0;
sub en { my $e = $!+0; return $e ? (grep { eval { no strict 'refs'; &{"Errno::$_"}() == $e } } @Errno::EXPORT_OK)[0] // "E$e" : 'OK' }
sub rec { my ($what, $ok) = @_; printf "%03d %s => %s\n", $n++, $what, $ok ? 'OK' : en(); }
sub st { my $p = shift; my @s = lstat($p);
  if (!@s) { printf "%03d stat %s => %s\n", $n++, $p, en(); return }
  my $t = $s[9]; my $tm = $t == 0 ? 'zero' : 'set';
  printf "%03d stat %s => mode=%o uid=%d gid=%d size=%d nlink=%d blocks=%d blksize=%d mtime=%s a=m:%d c=m:%d\n", $n++, $p, $s[2], $s[4], $s[5], $s[7], $s[3], $s[12], $s[11], $tm, $s[8]==$t?1:0, $s[10]==$t?1:0; }
sub rd { my $p = shift; if (open(my $fh, '<', $p)) { local $/; my $d = <$fh>; $d //= ''; close $fh; my $s = $d; $s =~ s/([^\x20-\x7e])/sprintf('\\x%02x', ord $1)/ge; $s = substr($s,0,200).'...' if length($s) > 200; printf "%03d read %s => len=%d %s\n", $n++, $p, length($d), $s } else { printf "%03d read %s => %s\n", $n++, $p, en() } }
sub wr { my ($p, $flags, $data, $off) = @_; my $fh; if (!sysopen($fh, $p, $flags, 0644)) { rec("open $p", 0); return }
  if (defined $off) { sysseek($fh, $off, SEEK_SET) }
  my $w = syswrite($fh, $data); my $e = defined $w ? "wrote=$w" : en(); my $c = close($fh) ? 'OK' : en();
  printf "%03d write %s len=%d => %s close=%s\n", $n++, $p, length($data), $e, $c; }
sub ls { my $p = shift; if (opendir(my $d, $p)) { my @e = readdir($d); closedir $d; printf "%03d readdir %s => %s\n", $n++, $p, join(',', @e) } else { printf "%03d readdir %s => %s\n", $n++, $p, en() } }
my $T = 't';
rec("mkdir $T", mkdir($T)); st($T); st('.'); st('nodes'); st('priv'); st('priv/lock'); st('local'); st('qemu-server'); st('lxc'); st('openvz');
rec("readlink local => ".(readlink('local')//'undef'), defined readlink('local'));
for my $f (qw(.version .members .vmlist .clusterlog .rrd .debug)) { st($f) }
rd('.debug'); rd('.members'); rd('.rrd');
wr("$T/a.cfg", O_WRONLY|O_CREAT|O_TRUNC, "hello\n"); st("$T/a.cfg"); rd("$T/a.cfg");
wr("$T/a.cfg", O_WRONLY|O_APPEND, "more\n"); rd("$T/a.cfg");
wr("$T/a.cfg", O_WRONLY, "X", 2); rd("$T/a.cfg");
wr("$T/a.cfg", O_WRONLY, "END", 20); st("$T/a.cfg"); rd("$T/a.cfg");
rec("truncate 4", truncate("$T/a.cfg", 4)); rd("$T/a.cfg");
rec("truncate 10", truncate("$T/a.cfg", 10)); rd("$T/a.cfg"); st("$T/a.cfg");
rec("truncate 0", truncate("$T/a.cfg", 0)); st("$T/a.cfg");
wr("$T/excl", O_WRONLY|O_CREAT|O_EXCL, "1"); wr("$T/excl", O_WRONLY|O_CREAT|O_EXCL, "2"); rd("$T/excl");
wr("$T/name with spaces.cfg", O_WRONLY|O_CREAT, "sp"); wr("$T/\x{e9}t\x{e9}-utf8.cfg", O_WRONLY|O_CREAT, "u");
{ my $u = "$T/caf\xc3\xa9.cfg"; wr($u, O_WRONLY|O_CREAT, "u8"); st($u) }
for my $len (255, 256, 1024, 1025, 4096) { my $nm = "$T/" . ('n' x $len); wr($nm, O_WRONLY|O_CREAT, "x"); rec("unlink len $len", unlink($nm)); rec("mkdir len $len", mkdir($nm)); rmdir($nm) }
wr("$T/big", O_WRONLY|O_CREAT|O_TRUNC, 'a' x (1024*1024)); st("$T/big");
wr("$T/big2", O_WRONLY|O_CREAT|O_TRUNC, 'a' x (1024*1024+1)); st("$T/big2");
wr("$T/big", O_WRONLY, "b", 1024*1024); wr("$T/big", O_WRONLY, "b", 1024*1024-1); st("$T/big");
rec("truncate big 1M+1", truncate("$T/big", 1024*1024+1)); rec("truncate big 1M", truncate("$T/big", 1024*1024));
wr("$T/big3", O_WRONLY|O_CREAT|O_TRUNC, 'a' x (1024*1024-10)); st("$T/big3"); rec("unlink big", unlink("$T/big")); unlink("$T/big2"); unlink("$T/big3");
rec("chmod 0640 file", chmod(0640, "$T/a.cfg")); rec("chmod 0600 file", chmod(0600, "$T/a.cfg")); rec("chmod 0644 file", chmod(0644, "$T/a.cfg")); rec("chmod 0755 dir", chmod(0755, $T)); rec("chmod 0640 dir", chmod(0640, $T));
rec("chmod 0600 priv file", chmod(0600, 'priv/authkey.key')); rec("chmod 0640 priv file", chmod(0640, 'priv/authkey.key')); rec("chmod 0700 priv dir", chmod(0700, 'priv'));
rec("chmod 04640 file", chmod(04640, "$T/a.cfg")); rec("chmod .version", chmod(0640, '.version')); rec("chmod local", chmod(0640, 'local'));
rec("chown 0 33", chown(0, 33, "$T/a.cfg")); rec("chown -1 -1", chown(-1, -1, "$T/a.cfg")); rec("chown 0 -1", chown(0, -1, "$T/a.cfg")); rec("chown 0 0", chown(0, 0, "$T/a.cfg")); rec("chown 1 33", chown(1, 33, "$T/a.cfg")); rec("chown -1 33", chown(-1, 33, "$T/a.cfg"));
rec("chown priv 0 33", chown(0, 33, 'priv/authkey.key')); rec("chown .members", chown(0, 33, '.members'));
rec("utime 1000 2000", utime(1000, 2000, "$T/a.cfg")); st("$T/a.cfg"); rec("utime dir", utime(1000, 3000, $T)); st($T);
rec("utime undef (now)", utime(undef, undef, "$T/a.cfg")); rec("utime .version", utime(1, 1, '.version')); rec("utime local", utime(1, 1, 'local'));
rec("mkdir $T/d1", mkdir("$T/d1")); wr("$T/d1/f", O_WRONLY|O_CREAT, "f"); rec("mkdir $T/d2", mkdir("$T/d2"));
rec("rmdir nonempty", rmdir("$T/d1")); rec("unlink dir", unlink("$T/d2")); rec("rmdir file", rmdir("$T/a.cfg"));
rec("rename dir into own child", rename("$T/d2", "$T/d2/sub")); rec("rename nonempty dir", rename("$T/d1", "$T/d3"));
rec("rename file over file", rename("$T/excl", "$T/a.cfg")); rd("$T/a.cfg"); rec("rename file over dir", rename("$T/a.cfg", "$T/d2")); rec("rename dir over file", rename("$T/d2", "$T/a.cfg"));
rec("mkdir d4", mkdir("$T/d4")); rec("rename dir over empty dir", rename("$T/d2", "$T/d4")); ls($T); rec("rename dir over nonempty dir", rename("$T/d4", "$T/d1"));
rec("rename missing", rename("$T/missing", "$T/x")); rec("rename to missing parent", rename("$T/a.cfg", "$T/nodir/x")); rec("rename to under file", rename("$T/a.cfg", "$T/a.cfg/x"));
rec("rename onto itself", rename("$T/a.cfg", "$T/a.cfg")); rec("rename to .version", rename("$T/a.cfg", ".version")); rec("rename .vmlist", rename('.vmlist', "$T/v"));
rec("rename to local", rename("$T/a.cfg", "local")); 
rec("link", link("$T/a.cfg", "$T/hard")); rec("symlink", symlink("a.cfg", "$T/sym")); rec("mkfifo", mkfifo("$T/fifo", 0600));
rec("mknod via sysopen", sysopen(my $fh, "$T/new-excl", O_WRONLY|O_CREAT|O_EXCL, 0600)); close $fh if $fh;
rec("unlink .vmlist", unlink('.vmlist')); rec("unlink local", unlink('local')); rec("rmdir local", rmdir('local')); rec("mkdir .version", mkdir('.version')); rec("mkdir under .version", mkdir('.version/x'));
wr('.version', O_WRONLY, "x"); wr('.debug', O_WRONLY, "1"); wr('.debug', O_WRONLY, "1\n"); rd('.debug'); wr('.debug', O_WRONLY|O_TRUNC, "0\n"); rd('.debug'); wr('.debug', O_WRONLY, "0\n", 1); wr('.debug', O_WRONLY, "0\nextra"); rd('.debug');
rec("truncate .debug", truncate('.debug', 0)); rec("truncate .version", truncate('.version', 0)); rec("truncate .members 5", truncate('.members', 5));
wr('.newfile-in-root', O_WRONLY|O_CREAT, "x"); rec("unlink", unlink('.newfile-in-root'));
rec("open dir for write", sysopen(my $dh, $T, O_WRONLY)); rec("open missing", sysopen(my $mh, "$T/missing", O_RDONLY)); rec("open file as dir", opendir(my $fd, "$T/a.cfg"));
rec("mkdir exists", mkdir($T)); rec("mkdir missing parent", mkdir("$T/no/such")); rec("mkdir under file", mkdir("$T/a.cfg/x"));
rec("unlink missing", unlink("$T/missing")); rec("rmdir missing", rmdir("$T/missing")); rec("rmdir root", rmdir($R)); rec("rmdir .", rmdir("$T/."));
rec("create in missing dir", sysopen(my $xh, "$T/none/x", O_WRONLY|O_CREAT));
# priv files and lock dirs
wr("priv/x.cfg", O_WRONLY|O_CREAT, "secret"); st("priv/x.cfg"); rec("rename into priv", rename("$T/name with spaces.cfg", "priv/moved.cfg")); st("priv/moved.cfg");
mkdir("nodes/node1"); rec("mkdir nodes/node1/priv", mkdir("nodes/node1/priv")); st("nodes/node1/priv"); wr("nodes/node1/priv/k", O_WRONLY|O_CREAT, "k"); st("nodes/node1/priv/k");
rec("mkdir lock", mkdir("priv/lock/test-lock")); st("priv/lock/test-lock"); rec("mkdir lock again", mkdir("priv/lock/test-lock"));
rec("utime lock 0 0", utime(0, 0, "priv/lock/test-lock")); rec("utime lock renew", utime(0, time, "priv/lock/test-lock")); rec("rename lock", rename("priv/lock/test-lock", "priv/lock/other"));
rec("rmdir lock", rmdir("priv/lock/test-lock")); rec("mkdir lock file-in-lock", mkdir("priv/lock/l2")); wr("priv/lock/l2/f", O_WRONLY|O_CREAT, "x"); rec("rmdir lock2", rmdir("priv/lock/l2"));
# guest configs and vmid uniqueness
rec("mkdir node1", mkdir("nodes/node1")); rec("mkdir qs", mkdir("nodes/node1/qemu-server")); rec("mkdir lxc", mkdir("nodes/node1/lxc"));
wr("nodes/node1/qemu-server/900.conf", O_WRONLY|O_CREAT, "name: a\n"); wr("nodes/node1/lxc/900.conf", O_WRONLY|O_CREAT, "x"); wr("nodes/other-node/qemu-server/900.conf", O_WRONLY|O_CREAT, "x");
rec("rename vm to other node", rename("nodes/node1/qemu-server/900.conf", "nodes/oracle-node/qemu-server/900.conf")); rec("rename vm to existing id", rename("nodes/oracle-node/qemu-server/900.conf", "nodes/oracle-node/qemu-server/100.conf"));
wr("qemu-server/901.conf", O_WRONLY|O_CREAT, "via symlink\n"); st("nodes/node1/qemu-server/901.conf"); rd("local/qemu-server/901.conf");
rec("mkdir 9905.conf", mkdir("nodes/node1/qemu-server/9905.conf")); wr("nodes/node1/qemu-server/99.conf", O_WRONLY|O_CREAT, "x");
ls("nodes/node1/qemu-server"); ls('.'); ls($T); ls('priv'); ls('local');
rd('.vmlist');
# statfs via df-like perl? use syscall-free: print `stat -f`
print sprintf("%03d statfs => %s", $n++, `stat -f -c 'bsize=%s frsize=%S blocks=%b bfree=%f bavail=%a files=%c ffree=%d namemax=%l type=%T' $R`);
# xattrs via setfattr/getfattr
print sprintf("%03d getfattr => %s", $n++, `getfattr -d $R/$T/a.cfg 2>&1 | head -2; echo rc=\$?`);
print sprintf("%03d setfattr => %s", $n++, `setfattr -n user.x -v 1 $R/$T/a.cfg 2>&1; echo rc=\$?`);
print sprintf("%03d flock => %s", $n++, `flock -n $R/$T/a.cfg true 2>&1; echo rc=\$?`);
# cleanup test dirs
system("rm -rf $R/$T $R/nodes/node1 $R/nodes/oracle-node/qemu-server/900.conf $R/nodes/other-node/qemu-server/900.conf $R/priv/x.cfg $R/priv/moved.cfg $R/priv/lock/l2 $R/priv/lock/test-lock 2>/dev/null");
