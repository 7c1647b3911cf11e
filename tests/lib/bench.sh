# Shared by the benchmarks that boot the example Debian guest
# (tests/bench/boot.sh, guest-cpu.sh, suspend.sh): sourced.
_bench_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# bench_vmpack NAME PATH: prints PATH made absolute; exits 2 with a message
# naming the benchmark when there is no executable there.
bench_vmpack() {
    [ -x "$2" ] || { echo "$1: no vmpack at $2 (build it, or --vmpack PATH)" >&2; exit 2; }
    realpath "$2"
}

# bench_image NAME VMPACK OUT.vmpk [make-image.sh options...]: the example
# guest's container, built with that vmpack; on failure the log's last lines
# and an exit with status 1 (the log is OUT.vmpk.log).
bench_image() {
    local me=$1 vmpack=$2 out=$3
    shift 3
    VMPACK=$vmpack "$_bench_top/examples/debian-i386/make-image.sh" "$out" "$@" > "$out.log" 2>&1 ||
        { tail -5 "$out.log" >&2; echo "$me: cannot build the example guest" >&2; exit 1; }
}
