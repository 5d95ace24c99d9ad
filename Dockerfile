# The ccoin image: only the static binary, built on the host beforehand with
#   CGO_ENABLED=0 go build -o bin/ccoin ./cmd/ccoin
# (scripts/localnet.sh and the e2e suite do this). No base image is pulled, so
# the image builds offline; there is no shell, so health checks use
# `ccoin healthcheck`.
FROM scratch
COPY bin/ccoin /ccoin
# scratch has no directories at all; WORKDIR creates them.
WORKDIR /tmp
WORKDIR /data
EXPOSE 7000 7001 4444
ENTRYPOINT ["/ccoin"]
CMD ["version"]
