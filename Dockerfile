# syntax=docker/dockerfile:1
# Talos container image: `docker build -t talos .`
#
# Build stage: the Swift 6.3 toolchain on Debian bookworm, so the binary's glibc and system libraries match the
# runtime stage exactly.
FROM swift:6.3-bookworm AS build

RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends libssl-dev libsqlite3-dev libsodium-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /build

# Dependencies first: this layer is rebuilt only when Package.swift (or a local Package.resolved) changes.
# Package.resolved is not committed (.gitignore), so it is a hint here, not a lock: no --force-resolved-versions.
COPY Package.* ./
RUN swift package resolve

# Then the sources (every target Package.swift declares must exist, tests and benchmarks included).
COPY . .

# --static-swift-stdlib links the Swift runtime, Dispatch and Foundation (with its ICU data) into the binary, so
# the runtime stage needs no Swift toolchain.
RUN swift build -c release --product talos --static-swift-stdlib \
    && mkdir -p /staging \
    && cp "$(swift build -c release --show-bin-path)/talos" /staging/talos \
    && cp /usr/libexec/swift/linux/swift-backtrace-static /staging/swift-backtrace-static

# Runtime stage.
FROM debian:bookworm-slim

# What `ldd` of the static-stdlib binary still lists, and the package providing it:
#   libcrypto.so.3 (OpenSSL crypto backend)  -> libssl3
#   libsqlite3.so.0 (SQLite storage, GRDB)    -> libsqlite3-0
#   libsodium.so.23 (libsodium crypto backend) -> libsodium23
#   libstdc++.so.6, libgcc_s.so.1             -> libstdc++6, libgcc-s1: the static Swift runtime still links
#                                               libstdc++ dynamically (static-stdlib-args.lnk has -lstdc++); both
#                                               are already in bookworm-slim (apt needs them), listed to be explicit
#   libz.so.1 (Foundation)                    -> zlib1g, also already in bookworm-slim
#   libc, libm                                -> libc6 (base image)
# Not needed: libcurl/libxml2 (Talos imports neither FoundationNetworking nor FoundationXML) and no libswift*.so.
# ca-certificates: for `sslmode=verify-full` to PostgreSQL and OTLP over https. curl: the health check.
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends \
        libssl3 libsqlite3-0 libsodium23 libstdc++6 libgcc-s1 zlib1g ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*

# A non-root user; its home is the working directory, where config/oss.json's `sqlite://./talos.db` lands (mount a
# volume there to keep the keys).
RUN groupadd --system --gid 10001 talos \
    && useradd --system --uid 10001 --gid talos --home-dir /var/lib/talos --no-create-home --shell /usr/sbin/nologin talos \
    && install -d -o talos -g talos -m 0750 /var/lib/talos

COPY --from=build /staging/talos /usr/local/bin/talos
# Symbolicated crash reports on stderr (the static backtracer, since the image has no Swift toolchain).
COPY --from=build /staging/swift-backtrace-static /usr/local/libexec/swift-backtrace-static
ENV SWIFT_BACKTRACE=enable=yes,sanitize=yes,threads=all,images=all,interactive=no,swift-backtrace=/usr/local/libexec/swift-backtrace-static
# The shipped profiles (oss.json, oel.json); neither holds a secret: TALOS_SECRETS_HMAC_CURRENT comes from the
# environment.
COPY config/ /etc/talos/

USER talos:talos
WORKDIR /var/lib/talos

# 4420 API (`serve`, `serve admin`), 4421 `serve public`, 4422 metrics (4423 for `serve public` when its port is
# not set). The HEALTHCHECK probes 4420: a `serve public` container overrides it (docker-compose.oel.yaml does).
EXPOSE 4420 4421 4422

HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD curl -fsS -o /dev/null http://127.0.0.1:4420/health/alive || exit 1

ENTRYPOINT ["talos"]
CMD ["serve", "--config", "/etc/talos/oss.json"]
