# GoogleTest unit tests, run through lit so that check-tfm counts them.
import os

import lit.formats

config.name = "tfm-unit"
config.test_format = lit.formats.GoogleTest(".", "Tests")
config.test_source_root = os.path.join(config.tfm_obj_root, "test", "Unit")
config.test_exec_root = config.test_source_root

# A refused allocation is null, as the system allocator returns it (the
# out-of-memory tests check what the runtime makes of it); AddressSanitizer
# would otherwise report it and abort.
asan_options = [o for o in os.environ.get("ASAN_OPTIONS", "").split(":") if o]
config.environment["ASAN_OPTIONS"] = ":".join(
    asan_options + ["allocator_may_return_null=1"])
