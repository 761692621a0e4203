#!/bin/bash -eu
# Builds every fuzz target for ClusterFuzzLite/OSS-Fuzz: compile with $CC $CFLAGS, link with
# $CXX $CXXFLAGS $LIB_FUZZING_ENGINE, binaries into $OUT with their seed corpus (zip),
# dictionary and .options. Runs by hand too, e.g.:
#   SRC=/tmp/src OUT=/tmp/out CC=clang CXX=clang++ \
#   CFLAGS="-O1 -g -fsanitize=address,undefined -fsanitize=fuzzer-no-link" \
#   CXXFLAGS="$CFLAGS" LIB_FUZZING_ENGINE=-fsanitize=fuzzer .clusterfuzzlite/build.sh
# ($SRC/sockspec is the checkout; without it, the checkout holding this script is used.)
if [ -d "${SRC}/sockspec/fuzz" ]; then
    ROOT=${SRC}/sockspec
else
    ROOT=$(cd "$(dirname "$0")/.." && pwd)
fi
WORK=${WORK:-$(mktemp -d)}
cfg=$WORK/sockspec-config
obj=$WORK/sockspec-obj
mkdir -p "$OUT" "$obj"

# Only for sockspec_config.h (cmake/features.cmake): no compiler flags of ours leak in.
cmake -S "$ROOT" -B "$cfg" -G Ninja -DSOCKSPEC_CONFORMANCE=OFF -DSOCKSPEC_FRAME_TESTS=OFF \
    -DSOCKSPEC_BENCH=OFF -DSOCKSPEC_FUZZ_REPLAY=OFF >"$WORK/sockspec-cmake.log"
inc=(-I"$ROOT/frame/include" -I"$ROOT/frame/src" -I"$ROOT/fuzz" -I"$ROOT/testsupport" -I"$cfg/include")

common=()
for src in "$ROOT"/frame/src/*.c "$ROOT"/testsupport/*.c "$ROOT/fuzz/fuzz_common.c" "$ROOT/fuzz/peer.c"; do
    o=$obj/$(basename "$src" .c).o
    $CC $CFLAGS -std=c11 "${inc[@]}" -c "$src" -o "$o"
    common+=("$o")
done

for t in $(awk -F'\t' '/^[a-z]/ { print $1 }' "$ROOT/fuzz/targets.tsv"); do
    src=$ROOT/fuzz/$t.c
    $CC $CFLAGS -std=c11 "${inc[@]}" -c "$src" -o "$obj/$t.o"
    $CXX $CXXFLAGS "$obj/$t.o" "${common[@]}" $LIB_FUZZING_ENGINE -o "$OUT/$t"
    if [ -d "$ROOT/corpus/$t" ]; then
        rm -f "$OUT/${t}_seed_corpus.zip"
        zip -q -j "$OUT/${t}_seed_corpus.zip" "$ROOT"/corpus/"$t"/*
    fi
    [ -f "$ROOT/fuzz/$t.dict" ] && cp "$ROOT/fuzz/$t.dict" "$OUT/"
    [ -f "$ROOT/fuzz/$t.options" ] && cp "$ROOT/fuzz/$t.options" "$OUT/"
    echo "built $OUT/$t"
done
