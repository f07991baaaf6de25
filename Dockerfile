# portmodel scoring service. Build: docker build -t portmodel .
# Run:   docker run -p 8080:8080 -v portmodel-repo:/var/lib/portmodel/repository \
#          -e PORTMODEL_ADMIN_TOKEN=change-me portmodel
# Stage 1 installs the package into a virtual environment with the README's install command
# (an editable install of /src); stage 2 copies that environment and /src onto a fresh slim
# image and runs it as a non-root user.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/portmodel
ENV PATH=/opt/portmodel/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY engine engine
COPY pmml pmml
COPY pfa pfa
RUN python -m pip install -e ".[serve]"

FROM python:3.11-slim
RUN useradd --system --uid 10001 --create-home --home-dir /var/lib/portmodel portmodel \
    && mkdir -p /var/lib/portmodel/repository \
    && chown -R portmodel:portmodel /var/lib/portmodel
COPY --from=build /opt/portmodel /opt/portmodel
COPY --from=build /src /src
ENV PATH=/opt/portmodel/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PORTMODEL_REPO=/var/lib/portmodel/repository
USER portmodel
WORKDIR /var/lib/portmodel
VOLUME ["/var/lib/portmodel/repository"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/v2/health/ready', timeout=2)"]
ENTRYPOINT ["portmodel", "serve"]
CMD ["--host", "0.0.0.0", "--port", "8080", "--repo", "/var/lib/portmodel/repository"]
