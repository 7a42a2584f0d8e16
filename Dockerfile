# roomgate: multi-stage build. cargo-chef caches the dependency layer, so a change to
# roomgate's own code rebuilds only roomgate.
FROM rust:1.95.0-slim-bookworm AS chef
RUN cargo install cargo-chef --locked --version 0.1.78
WORKDIR /app

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /app/recipe.json recipe.json
RUN cargo chef cook --release --locked --recipe-path recipe.json
COPY . .
RUN cargo build --release --locked --bin roomgate

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin roomgate
WORKDIR /app
COPY --from=builder /app/target/release/roomgate /usr/local/bin/roomgate
COPY config config
COPY templates templates
COPY static static
RUN mkdir -p /app/data && chown roomgate /app/data
USER roomgate
ENV ROOMGATE_ENV=production \
    ROOMGATE__SERVER__HOST=0.0.0.0 \
    ROOMGATE__SERVER__PORT=8080
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=3s --start-period=5s \
    CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["/usr/local/bin/roomgate"]
