#!/usr/bin/env bash
# busybox.sh X86RUN CACHE_DIR: Debian's i386 busybox-static, run natively
# and under x86run on real files (sha256sum, sort, gzip -c | gzip -d, wc,
# ls -l, and a few more); outputs and exit statuses must be identical.
# The .deb is fetched with apt-get for architecture i386 (DESIGN.md, "The
# machine") into CACHE_DIR once. Exit 77 (skip) only when it cannot be had.
set -u
x86run=$1
cache=$2
case $x86run in */*) x86run=$(cd "$(dirname "$x86run")" && pwd)/$(basename "$x86run") ;; esac
mkdir -p "$cache" && cache=$(cd "$cache" && pwd)
bb=$cache/busybox-static/bin/busybox
mkdir -p "$cache"

fetch() {
    local lists=$cache/apt-lists arch=$cache/apt-cache
    mkdir -p "$lists/partial" "$arch/archives/partial"
    local opts=(-q -oAPT::Architecture=i386 -oAPT::Architectures=i386
                -oDir::State::Lists="$lists" -oDir::Cache="$arch" -oDir::State::Status=/dev/null
                -oDebug::NoLocking=1)
    # An index that fails to refresh (mirror sync) is not fatal: the
    # download below says whether the package can be had.
    apt-get "${opts[@]}" update >"$cache/apt.log" 2>&1 || true
    (cd "$cache" && apt-get "${opts[@]}" download busybox-static) >>"$cache/apt.log" 2>&1 || return 1
    local deb
    deb=$(ls "$cache"/busybox-static_*_i386.deb 2>/dev/null | head -1)
    [ -n "$deb" ] || return 1
    rm -rf "$cache/busybox-static"
    dpkg -x "$deb" "$cache/busybox-static" || return 1
    [ -x "$bb" ]
}

if [ ! -x "$bb" ] && ! fetch; then
    echo "SKIP: cannot download Debian's i386 busybox-static (see $cache/apt.log)"
    exit 77
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
data=$work/data
mkdir -p "$data/dir"
for i in $(seq 1 3000); do echo "line $(( (i * 7919) % 3001 )) word$((i % 17))"; done >"$data/text.txt"
head -c 200000 /dev/urandom >"$data/random.bin"
cat "$data/text.txt" "$data/text.txt" >"$data/dir/double.txt"
printf 'b\na\nc\n' >"$data/dir/small.txt"
ln -s text.txt "$data/link"

fail=0
check() { # description, command line run by bash -c with $BB set
    local what=$1 cmd=$2
    (cd "$data" && BB="$bb" bash -c "$cmd") >"$work/n.out" 2>"$work/n.err"
    local nrc=$?
    (cd "$data" && BB="$x86run $bb" bash -c "$cmd") >"$work/x.out" 2>"$work/x.err"
    local xrc=$?
    grep -v '^x86run:' "$work/x.err" >"$work/x.errf" || true
    if cmp -s "$work/n.out" "$work/x.out" && cmp -s "$work/n.err" "$work/x.errf" &&
       [ $nrc = $xrc ]; then
        echo "ok: $what ($(wc -c <"$work/n.out") bytes, status $nrc)"
    else
        echo "FAIL: $what: status native $nrc, x86run $xrc"
        diff "$work/n.out" "$work/x.out" | head -5
        diff "$work/n.err" "$work/x.errf" | head -5
        grep '^x86run:' "$work/x.err" | head -5
        fail=1
    fi
}

check "sha256sum" '$BB sha256sum text.txt random.bin dir/double.txt'
check "sort" '$BB sort text.txt'
check "sort -n -r" '$BB sort -k2 -n -r text.txt'
check "gzip -c | gzip -d" '$BB gzip -c random.bin text.txt | $BB gzip -d | $BB sha256sum'
check "gzip -9 size" '$BB gzip -9 -c text.txt | wc -c'
check "wc" '$BB wc text.txt random.bin dir/double.txt'
check "ls -l" '$BB ls -l . dir'
check "ls -la --full-time" '$BB ls -la dir'
check "cat | md5sum" '$BB cat text.txt | $BB md5sum'
check "uniq -c" '$BB sort text.txt | $BB uniq -c | $BB head -20'
check "missing file" '$BB cat nonexistent'
check "sed" '$BB sed -n "s/word1/WORD/p" text.txt'
check "yes | head: SIGPIPE" '$BB yes | head -3; echo "status ${PIPESTATUS[0]}"'
check "expr" '$BB expr 12345 \* 6789'
exit $fail
