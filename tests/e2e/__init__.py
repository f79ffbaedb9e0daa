"""End-to-end tests: real Airflow processes (a package, so that its `airflow` fixture stops after them)."""
