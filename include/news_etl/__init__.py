"""news_etl: fetch news feeds and articles, check them, and load a PostgreSQL warehouse.

The package holds all logic; Airflow DAGs under dags/ only call into it.
"""

from pathlib import Path

__version__ = "0.1.0"

# include/ holds the package and the data it reads: sql/, sources/, expectations/.
INCLUDE_DIR = Path(__file__).resolve().parent.parent
PROJECT_DIR = INCLUDE_DIR.parent
