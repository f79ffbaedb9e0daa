# The project's image: the official Airflow image (same Airflow and Python as requirements.txt and
# pyproject.toml; tests/deploy checks that) with the locked dependencies, this package and its DAGs.
# Built by `docker compose build` (docker-compose.yaml); linted by hadolint in `make test`.
FROM apache/airflow:3.3.2-python3.11

# The project lives in /opt/news-etl: the package is installed editable, because its data (SQL,
# source files, quality suites, watched terms) sit beside it in include/. Folders for the named
# volumes of docker-compose.yaml are created here, so new volumes start owned by the image's airflow
# user (uid 50000, group 0, group-writable: the image may run under any AIRFLOW_UID with group 0).
USER 0
RUN install -d -o 50000 -g 0 -m 2775 /opt/news-etl /opt/news-etl-data \
        /opt/news-etl-data/archive /opt/news-etl-data/reports /opt/news-etl-data/data_docs /opt/airflow/auth
USER 50000:0

# Dependencies first (the lock changes less often than the code): Docker's layer cache keeps them.
COPY --chown=50000:0 requirements.lock /opt/news-etl/requirements.lock
RUN pip install --no-cache-dir -r /opt/news-etl/requirements.lock

COPY --chown=50000:0 pyproject.toml /opt/news-etl/pyproject.toml
COPY --chown=50000:0 include /opt/news-etl/include
RUN pip install --no-cache-dir --no-deps -e /opt/news-etl
COPY --chown=50000:0 dags /opt/news-etl/dags
COPY --chown=50000:0 plugins /opt/news-etl/plugins

# The archive, reports and Data Docs default to archive/, reports/ and data_docs/ in the state folder;
# NEWS_ETL_ARCHIVE etc. (environment or Airflow Variable) move them.
ENV AIRFLOW__CORE__DAGS_FOLDER=/opt/news-etl/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=/opt/news-etl/plugins \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    NEWS_ETL_STATE_DIR=/opt/news-etl-data
