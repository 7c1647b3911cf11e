#!/usr/bin/env bash
# vmpack run: the refusals that come before the guest runs (arguments, a
# missing file, a container without a kernel, a kernel that is not a
# bzImage, a memory size the machine does not offer, more disks than slots),
# each with exit status, "vmpack: what: why" and nothing on stdout.
. "$(dirname "$0")/lib.sh"

vmpack run --help > help.txt
grep -q '^usage: vmpack run FILE.vmpk' help.txt || fail "run --help"
grep -q 'Ctrl-A x' help.txt || fail "run --help: escape key"
ok "run --help"
vmpack --help | grep -q '^  run ' || fail "run is not listed in vmpack --help"
ok "run is listed in vmpack --help"

expect_fail 2 "expected one container file" vmpack run
expect_fail 2 "expected one container file" vmpack run a.vmpk b.vmpk
expect_fail 2 "--bogus" vmpack run --bogus x.vmpk
expect_fail 2 "--hostfwd" vmpack run --hostfwd 80 x.vmpk
expect_fail 1 "missing.vmpk" vmpack run missing.vmpk

make_disk d.raw $((1 << 20)) random
vmpack create -o nokernel.vmpk --memory 64M --cpu i686 --disk d.raw
expect_fail 1 "no kernel" vmpack run nokernel.vmpk

printf 'not really a kernel, but long enough to have a header? no.\n' > bad.bzImage
head -c 8192 /dev/zero >> bad.bzImage
vmpack create -o badkernel.vmpk --memory 64M --cpu i686 --kernel bad.bzImage
expect_fail 1 "kernel: " vmpack run badkernel.vmpk

vmpack create -o small.vmpk --memory 16M --cpu i686 --kernel bad.bzImage
expect_fail 1 "32 MiB" vmpack run small.vmpk
vmpack create -o odd.vmpk --memory 33300K --cpu i686 --kernel bad.bzImage
expect_fail 1 "multiple of 1 MiB" vmpack run odd.vmpk

vmpack create -o fourdisks.vmpk --memory 64M --cpu i686 --kernel bad.bzImage \
  --disk d.raw --disk d.raw --disk d.raw --disk d.raw
expect_fail 1 "disk slots" vmpack run fourdisks.vmpk

echo "run_errors: $CHECKS checks passed"
