#!/bin/sh
# Minimises a failing socket_model input while it keeps failing the same way: the same cause
# by fuzz/divergences.tsv (NEW stays NEW), socket type and "expected X, got Y" of the first
# failed invariant (the op number may change). libFuzzer's -minimize_crash keeps any crash, so
# on an implementation with several divergences it drifts to the most common one (both NEW
# inputs of a gVisor campaign became a zero-length recv, a known cause). Runs inside the
# implementation (ci/fuzz-on starts it there).
#   fuzz/minimise_same.sh REPLAY INPUT OUTPUT IMPL
# Removes one byte at a time, keeping each removal that preserves the signature, until a whole
# pass removes nothing. Prints the signature; exits 1 if INPUT does not fail at all.
set -eu
replay=$1 input=$2 output=$3 impl=$4
here=$(cd "$(dirname "$0")" && pwd)

# "cause type expected X, got Y" of one input, empty when it does not fail.
signature() {
    "$replay" "$1" >/dev/null 2>"$output.trace" || true
    awk -F'\t' -v impl="$impl" -v input=- -f "$here/classify.awk" "$here/divergences.tsv" \
        "$output.trace" | awk -F'\t' -v trace="$output.trace" '
        { cause = $1 }
        END {
            while ((getline line <trace) > 0) {
                if (line ~ /socketpair\(AF_UNIX, /) { match(line, /SOCK_[A-Z]+/); type = substr(line, RSTART, RLENGTH) }
                if (line ~ /invariant failed/ && msg == "") { msg = line; sub(/.*invariant failed: op #[0-9]+( on SOCK_[A-Z]+)?: /, "", msg) }
            }
            if (msg != "") print cause " " type " " msg
        }'
}

want=$(signature "$input")
[ -n "$want" ] || { echo "minimise_same: $input does not fail" >&2; exit 1; }
cp "$input" "$output"
changed=1
while [ "$changed" = 1 ]; do
    changed=0
    n=$(wc -c <"$output")
    i=0
    while [ "$i" -lt "$n" ]; do
        { head -c "$i" "$output"; tail -c +"$((i + 2))" "$output"; } >"$output.try"
        if [ "$(signature "$output.try")" = "$want" ]; then
            mv "$output.try" "$output"
            n=$((n - 1))
            changed=1
        else
            i=$((i + 1))
        fi
    done
done
rm -f "$output.try" "$output.trace"
echo "$want"
