# klag-exporter container image. Two stages on Debian 12 (bookworm): the
# builder installs the build profile of scripts/install-deps.sh and compiles
# the exporter; the runtime stage installs only the runtime profile (the
# binary's shared libraries, CA certificates, curl for the HEALTHCHECK) and
# runs as a non-root user. tests/integration/test_packaging.py checks these
# stages against the install script and the binary's libraries.
# No container engine runs where this project is developed: this file is
# checked, but the image has not been built there.

FROM debian:bookworm AS build
COPY scripts/install-deps.sh /src/scripts/install-deps.sh
RUN /src/scripts/install-deps.sh build && rm -rf /var/lib/apt/lists/*
COPY . /src
RUN cmake -S /src -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DKLAG_BUILD_TESTS=OFF \
 && cmake --build /build --target klag-exporter \
 && strip /build/src/app/klag-exporter

FROM debian:bookworm-slim AS runtime
COPY scripts/install-deps.sh /tmp/install-deps.sh
RUN /tmp/install-deps.sh runtime && rm -rf /var/lib/apt/lists/* /tmp/install-deps.sh
COPY --from=build /build/src/app/klag-exporter /usr/local/bin/klag-exporter
COPY config/example.toml /etc/klag-exporter/config.toml
USER 65532:65532
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8000/health"]
ENTRYPOINT ["/usr/local/bin/klag-exporter"]
CMD ["--config", "/etc/klag-exporter/config.toml"]
