#!/usr/bin/env bash
# vmpack --help lists every subcommand; each answers --help with its usage
# on stdout and exit 0; --version; progress shows only when asked (stderr
# is not a terminal here).
. "$(dirname "$0")/lib.sh"

vmpack --help > help.txt
cmds=$(sed -n 's/^  \([a-z-]\+\) .*/\1/p' help.txt)
[ "$(echo "$cmds" | wc -l)" -ge 8 ] || fail "vmpack --help lists: $cmds"
for c in create inspect verify keygen sign export-disk diff profile; do
  echo "$cmds" | grep -qx "$c" || fail "vmpack --help does not list $c"
done
for c in $cmds; do
  vmpack "$c" --help > h.txt 2> h.err || fail "vmpack $c --help exited non-zero"
  grep -q "^usage: vmpack $c" h.txt || fail "vmpack $c --help: no usage line"
  [ ! -s h.err ] || fail "vmpack $c --help wrote to stderr"
  vmpack help "$c" | cmp -s - h.txt || fail "vmpack help $c differs from --help"
done
ok "every listed subcommand answers --help: $(echo $cmds)"
vmpack --version | grep -q '^vmpack [0-9]\+\.[0-9]\+\.[0-9]\+$' || fail "--version"
ok "--version"
rc=0; vmpack > /dev/null 2> e.txt || rc=$?
[ "$rc" = 2 ] && grep -q '^usage: vmpack' e.txt || fail "no arguments: rc $rc"
ok "no arguments: usage on stderr, exit 2"

make_disk d.raw $((3 << 20)) random
vmpack create -o c.vmpk --memory 16M --cpu i686 --disk d.raw 2> quiet.err
[ ! -s quiet.err ] || fail "progress printed without a terminal or --progress"
vmpack create -o c.vmpk --memory 16M --cpu i686 --disk d.raw --progress 2> p.err
grep -q 'packing disk0: done in' p.err || fail "--progress printed: $(cat p.err)"
vmpack export-disk c.vmpk 0 -o d.out --progress 2> p.err
grep -q 'exporting: done in' p.err || fail "export --progress printed: $(cat p.err)"
ok "progress only with --progress (stderr not a terminal)"
echo "e2e_help: $CHECKS checks passed"
