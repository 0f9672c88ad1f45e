from ot_feedback.store import metadata
from ot_runtime.migrations import run_env

run_env(metadata)
