"""The end-to-end tests' shared Airflow: one `news-etl airflow` for the tests of this package."""

from live_airflow import airflow  # noqa: F401  (package fixture: real Airflow processes)
