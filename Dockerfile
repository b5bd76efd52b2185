# ssoflow: one image with all four binaries; the compose file picks the
# command. Build: docker build -t ssoflow .
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/ \
    ./cmd/ingest ./cmd/worker ./cmd/scheduler ./cmd/ssoflow

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --no-create-home ssoflow
COPY --from=build /out/ /usr/local/bin/
COPY config/ /etc/ssoflow/
USER ssoflow
EXPOSE 8080
# The default runs everything in one process on an embedded Redis; the
# compose file runs the services separately on a real one.
ENV SSOFLOW_ADDR=:8080
CMD ["ssoflow", "dev"]
