# barrage's container image, the one `barrage k8s --image` runs (docs/DISTRIBUTED.md,
# "Kubernetes"). Build and push it where the cluster pulls from:
#
#   docker build -t registry.example/barrage:0.1 .
#   docker push registry.example/barrage:0.1
#
# Three stages: the web UI's chart library (uPlot) from the npm registry, which the build
# embeds; the release build; and a small runtime holding the binary alone. Not built in CI
# (no container engine there); the build commands are the ones CI runs on the host.

FROM node:20-bookworm-slim AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund --omit=dev

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
COPY --from=web /src/web/node_modules web/node_modules
RUN cargo build --release --locked -p barrage

# Debian slim has what the manifests' commands use beside barrage: sh and bash, coreutils
# (sleep, timeout, seq, ln, mkdir) and tar, which `kubectl cp` needs in the container.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/barrage /usr/local/bin/barrage
# A numeric user, so that Kubernetes' `runAsNonRoot` can check it is not root.
USER 10001:10001
WORKDIR /barrage
ENTRYPOINT ["barrage"]
CMD ["--help"]
