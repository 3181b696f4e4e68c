# syntax=docker/dockerfile:1
# The isms-lint container image: one static binary, a non-root user, nothing else (no shell, no
# package manager, no git: `--new-since`, which reads git objects, needs the binary or the wheel).
#
#   docker build -t isms-lint .                   (or: docker build -t isms-lint https://github.com/isms-lint/isms-lint.git#vX.Y.Z)
#   docker run --rm -v "$PWD:/src:ro" isms-lint scan .
#
# Stage `build` compiles a static musl binary on the digest-pinned Rust image (the tag is for
# people; Renovate or Dependabot update tag and digest together); the final stage is `scratch`
# with that binary and a /tmp the user owns. CI checks this file with isms-lint's own Dockerfile
# rules (.ci/integrations.sh): it must have no finding. See docs/ci.md, "Container image".

FROM rust:1.88-slim-bookworm@sha256:38bc5a86d998772d4aec2348656ed21438d20fcdce2795b56ca434cf21430d89 AS build
# Set by BuildKit for the platform being built (linux/amd64, linux/arm64).
ARG TARGETARCH
# The commit `isms-lint --version` names (the build context has no .git).
ARG ISMS_LINT_COMMIT=""
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs README.md ./
COPY src ./src
COPY rules ./rules
COPY data ./data
COPY fixtures ./fixtures
RUN set -eu; \
    case "${TARGETARCH:-amd64}" in \
      amd64) target=x86_64-unknown-linux-musl ;; \
      arm64) target=aarch64-unknown-linux-musl ;; \
      *) echo "no static build for architecture '$TARGETARCH'" >&2; exit 1 ;; \
    esac; \
    rustup target add "$target"; \
    ISMS_LINT_COMMIT="$ISMS_LINT_COMMIT" cargo build --release --locked --target "$target"; \
    mkdir -p /out/tmp; \
    cp "target/$target/release/isms-lint" /out/isms-lint; \
    /out/isms-lint --version

FROM scratch
LABEL org.opencontainers.image.title="isms-lint" \
      org.opencontainers.image.description="Policy-as-code linter that evidences ISO/IEC 27001:2022 Annex A controls from configuration files" \
      org.opencontainers.image.source="https://github.com/isms-lint/isms-lint" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /out/isms-lint /usr/local/bin/isms-lint
COPY --from=build --chown=65532:65532 /out/tmp /tmp
USER 65532:65532
WORKDIR /src
# A one-shot command-line tool, not a service: there is nothing to probe.
HEALTHCHECK NONE
ENTRYPOINT ["/usr/local/bin/isms-lint"]
CMD ["scan", "."]
