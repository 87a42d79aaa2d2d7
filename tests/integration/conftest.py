from tests.processes import start_worker, worker_env  # noqa: F401  (fixtures)
