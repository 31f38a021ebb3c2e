// The source of nb_test_pch (tests/CMakeLists.txt), the target whose precompiled header the
// test binaries reuse. It has nothing of its own to compile.
