# lit configuration for tfm: FileCheck tests of the dialect and passes, and
# end-to-end numeric tests that compile, run and compare against NumPy.
import os

import lit.formats

config.name = "tfm"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.tfm_obj_root, "test")
# Unit/ has its own config (GoogleTest format); fuzz/ holds libFuzzer
# harnesses and their corpora (scripts/fuzz.sh runs them).
config.excludes = ["Unit", "fuzz", "CMakeLists.txt", "lit.cfg.py",
                   "lit.site.cfg.py", "lit.site.cfg.py.in"]

config.substitutions.append(("%python", config.python))
config.substitutions.append(("FileCheck", config.filecheck))
config.substitutions.append(("%e2e", os.path.join(config.test_source_root, "e2e")))
config.substitutions.append(("%tfm_src", config.tfm_src_root))
config.substitutions.append(("%tfm_tools", config.tfm_tools_dir))
config.environment["PATH"] = os.pathsep.join(
    [config.tfm_tools_dir, config.environment.get("PATH", os.environ["PATH"])])
# Tests must not depend on the caller's locale or on OpenBLAS settings.
config.environment["LC_ALL"] = "C"

if not config.runtime_only:
    config.available_features.add("compiler")
if config.tsan:
    config.available_features.add("tsan")
# Tests of the PyTorch export tool run where python3-torch is installed
# (CI has none).
import subprocess
if subprocess.run([config.python, "-c", "import torch"],
                  capture_output=True).returncode == 0:
    config.available_features.add("torch")
# bf16 artifacts compiled for the host use vdpbf16ps where the CPU has
# AVX512-BF16 (tests of that path run there; others force a target
# without it, --mcpu=skylake-avx512).
try:
    with open("/proc/cpuinfo") as cpuinfo:
        if " avx512_bf16" in cpuinfo.read():
            config.available_features.add("avx512bf16")
except OSError:
    pass
# tfm-alloc-check replaces malloc, which the sanitizers' runtimes own.
if not config.sanitizers:
    config.available_features.add("alloc-check")
    # test/Tools/work/work_count.c, preloaded (the sanitizers' runtime
    # must come first).
    config.available_features.add("work-count")
# Out-of-memory tests cap the address space with prlimit, which the
# sanitizers' shadow memory does not fit in.
import shutil
if not config.sanitizers and shutil.which("prlimit"):
    config.available_features.add("address-space-limit")

# A refused allocation is null, as the system allocator returns it (the
# out-of-memory tests check what the runtime makes of it); AddressSanitizer
# would otherwise report it and abort.
asan_options = [o for o in os.environ.get("ASAN_OPTIONS", "").split(":") if o]
config.environment["ASAN_OPTIONS"] = ":".join(
    asan_options + ["allocator_may_return_null=1"])
