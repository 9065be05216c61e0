# xdrproxy container image: a static binary on distroless, non-root.
#   docker build --build-arg VERSION=$(git describe --always) -t xdrproxy .

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/xdrproxy ./cmd/xdrproxy

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/xdrproxy /xdrproxy
# The admin listener must be reachable by the kubelet's probes and the
# Prometheus scraper (/healthz, /readyz and /metrics stay open); off
# loopback, /tenants and /debug/pprof/ need a key from
# XDRPROXY_ADMIN_KEYS_FILE, and answer 403 until it is set. The proxy
# listener stays on loopback unless the deployment sets
# XDRPROXY_LISTEN_ADDR (and client keys) itself.
ENV XDRPROXY_ADMIN_ADDR=0.0.0.0:9090
USER 65532:65532
EXPOSE 8080 9090
ENTRYPOINT ["/xdrproxy"]
