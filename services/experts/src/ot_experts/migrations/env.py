from ot_experts.store import metadata
from ot_runtime.migrations import run_env

run_env(metadata)
