#!/usr/bin/env bash
# The build a user or a distribution tries first: configure the Release type (-O3) in a fresh
# directory and build the two programs, nodebridged and nodebridge-sim, with warnings as
# errors. Some warnings (GCC's middle-end ones, such as -Wrestrict) appear only at -O3, so the
# team's own builds (RelWithDebInfo, sanitizers) would not see them.
#   usage: release_build_test.sh SOURCE_DIR WORK_PARENT CXX_COMPILER
# Builds in a new directory under WORK_PARENT, removed afterwards. Uses ccache when it is
# installed (with a base dir, so its hits survive the changing directory name).
set -euo pipefail

source_dir=$(cd "${1:?usage: $0 SOURCE_DIR WORK_PARENT CXX_COMPILER}" && pwd)
parent=${2:?usage: $0 SOURCE_DIR WORK_PARENT CXX_COMPILER}
compiler=${3:?usage: $0 SOURCE_DIR WORK_PARENT CXX_COMPILER}

mkdir -p "$parent"
work=$(mktemp -d "$parent/release.XXXXXX")
trap 'rm -rf "$work"' EXIT

options=(-DCMAKE_BUILD_TYPE=Release -DNODEBRIDGE_WERROR=ON -DNODEBRIDGE_TESTS=OFF
    -DNODEBRIDGE_BENCH=OFF -DCMAKE_CXX_COMPILER="$compiler")
if command -v ccache >/dev/null 2>&1; then
    options+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    # Paths under the source tree are hashed relative to the compiling directory, so the
    # hits survive the build directory's changing name.
    export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$source_dir}
fi

echo "== configure: $compiler, Release"
cmake -S "$source_dir" -B "$work" "${options[@]}" >/dev/null
echo "== build: nodebridged nodebridge-sim"
# At the lowest CPU priority: CTest runs timing-sensitive tests beside this one
# (tests/build_types/CMakeLists.txt), and they must not wait for the compiler.
nice -n 19 cmake --build "$work" -j"$(nproc)" --target nodebridged nodebridge-sim
"$work/src/daemon/nodebridged" --version

echo "== a plain configure (as a user's or the Debian package's) does not make warnings errors"
plain=$work/plain
cmake -S "$source_dir" -B "$plain" -DCMAKE_BUILD_TYPE=Release -DNODEBRIDGE_TESTS=OFF \
    -DNODEBRIDGE_BENCH=OFF -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DCMAKE_CXX_COMPILER="$compiler" >/dev/null
grep -q 'src/daemon/' "$plain/compile_commands.json" || {
    echo "FAIL: no compile commands for nodebridged in $plain/compile_commands.json"
    exit 1
}
if grep -q -- '-Werror' "$plain/compile_commands.json"; then
    echo "FAIL: a plain configure turns warnings into errors (-Werror without NODEBRIDGE_WERROR=ON)"
    exit 1
fi
echo "PASS: Release builds with warnings as errors; a plain configure keeps them warnings"
