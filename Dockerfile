# syntax=docker/dockerfile:1
# orgd: a static binary on a distroless base, running as a non-root user.
#   docker build -t orgd --build-arg VERSION=$(git describe --tags --always) .
#   docker run -p 8080:8080 -v orgd-data:/data orgd
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# modernc.org/sqlite is pure Go: no cgo, so the binary links nothing.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/orgd ./cmd/orgd \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/orgd /usr/local/bin/orgd
# The data directory (SQLite database, generated server key) belongs to the
# non-root user (uid 65532).
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV ORGD_DATA_DIR=/data \
    ORGD_LISTEN=0.0.0.0:8080
EXPOSE 8080
VOLUME ["/data"]
ENTRYPOINT ["/usr/local/bin/orgd"]
CMD ["serve"]
