from ot_portal.sessions import metadata
from ot_runtime.migrations import run_env

run_env(metadata)
