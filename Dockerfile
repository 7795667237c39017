# syntax=docker/dockerfile:1
# Dockerfile — the monas image: monasd (coordinator) and monas-worker in one runtime
# image built in two stages on Debian bookworm-slim.
#
#   docker build -t monas .
#   docker run -d -e MONAS_TOKENS='ADMINTOKEN admin;WORKERTOKEN worker' -p 8080:8080 \
#       -v monas-data:/var/lib/monas monas                         # the coordinator
#   docker run -d -e MONAS_COORDINATOR=http://HOST:8080 -e MONAS_TOKEN=WORKERTOKEN \
#       monas monas-worker run                                     # a worker
#
# The runtime stage holds only the shared libraries the two binaries link, curl for the
# health check and CA certificates for https coordinators; it runs as the unprivileged
# user monas (uid 10001), keeps the database on the volume /var/lib/monas and listens
# on 0.0.0.0:8080, which monasd accepts only with tokens configured.

ARG DEBIAN=debian:bookworm-slim

FROM ${DEBIAN} AS build
WORKDIR /src
# The build dependencies, from the same script `make` uses (its own layer: cached
# until the script changes).
COPY deploy/install-deps.sh deploy/install-deps.sh
RUN apt-get update -qq \
 && deploy/install-deps.sh \
 && rm -rf /var/lib/apt/lists/*
COPY . .
RUN make -j"$(nproc)" all \
 && strip build/monasd build/monas-worker

FROM ${DEBIAN} AS runtime
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        ca-certificates curl libcjson1 libcurl4 liblapacke libmicrohttpd12 \
        libopenblas0-pthread libsqlite3-0 libuv1 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 monas \
 && useradd --system --uid 10001 --gid monas --home-dir /var/lib/monas \
        --no-create-home --shell /usr/sbin/nologin monas \
 && install -d -o monas -g monas -m 0750 /var/lib/monas
COPY --from=build /src/build/monasd /src/build/monas-worker /usr/local/bin/

# monasd's settings (every flag has a MONAS_* variable; `monasd --help` lists them).
# One OpenBLAS thread per scoring thread: parallelism is across candidates.
ENV MONAS_LISTEN=0.0.0.0:8080 \
    MONAS_DB=/var/lib/monas/monas.db \
    OPENBLAS_NUM_THREADS=1
VOLUME ["/var/lib/monas"]
WORKDIR /var/lib/monas
EXPOSE 8080
USER 10001:10001
STOPSIGNAL SIGTERM
# The coordinator's health: /healthz is public and answers 503 while stopping or when
# the database is unusable. Worker containers override this (see docker-compose.yml).
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD curl -fsS -o /dev/null "http://127.0.0.1:${MONAS_LISTEN##*:}/healthz" || exit 1
CMD ["monasd"]
