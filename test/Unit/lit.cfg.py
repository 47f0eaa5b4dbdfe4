# GoogleTest unit tests, run through lit so that check-tfm counts them.
import os

import lit.formats

config.name = "tfm-unit"
config.test_format = lit.formats.GoogleTest(".", "Tests")
config.test_source_root = os.path.join(config.tfm_obj_root, "test", "Unit")
config.test_exec_root = config.test_source_root
