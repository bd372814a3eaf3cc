# The Airflow image: Apache Airflow at the version constraints.txt pins, with powercast installed from the same
# lock, and the DAGs and plugins baked in. Build from the repository root:
# docker build -f docker/airflow.Dockerfile .
ARG AIRFLOW_VERSION=3.3.2
FROM apache/airflow:${AIRFLOW_VERSION}-python3.11

ARG AIRFLOW_VERSION
# PyTorch's CPU wheels: the same torch version as the lock without its CUDA libraries (several GB).
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu

ENV POWERCAST_HOME=/opt/powercast
ENV AIRFLOW__CORE__DAGS_FOLDER=${POWERCAST_HOME}/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=${POWERCAST_HOME}/plugins \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    POWERCAST_SQL_DIR=${POWERCAST_HOME}/sql \
    POWERCAST_DATA_DIR=/opt/airflow/powercast

# As the image's `airflow` user, the way Airflow's documentation extends its image; apache-airflow is named with
# its version so that nothing in the lock can move it.
COPY --chown=airflow:0 constraints.txt pyproject.toml README.md ${POWERCAST_HOME}/
COPY --chown=airflow:0 src ${POWERCAST_HOME}/src
RUN pip install --no-cache-dir -c ${POWERCAST_HOME}/constraints.txt --extra-index-url "${TORCH_INDEX}" \
        "apache-airflow==${AIRFLOW_VERSION}" -e ${POWERCAST_HOME}
COPY --chown=airflow:0 dags ${POWERCAST_HOME}/dags
COPY --chown=airflow:0 plugins ${POWERCAST_HOME}/plugins
COPY --chown=airflow:0 sql ${POWERCAST_HOME}/sql
COPY --chown=airflow:0 docker/airflow-init.sh ${POWERCAST_HOME}/docker/
RUN mkdir -p /opt/airflow/powercast /opt/airflow/auth
