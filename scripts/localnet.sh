#!/bin/sh
# localnet.sh start|stop|pause|reset|status|logs|project: a ccoin testnet in
# Docker (see docker-compose.yml): discovery, validators node1-3 and basic node4.
#
#   start   build bin/ccoin (static), the FROM-scratch image, create the
#           network once and start it; waits until every node is healthy and
#           copies the manifest and the faucet key to .testnet/ for wallets
#   stop    stop and remove everything: containers, volumes (the chains) and
#           the network, and .testnet/
#   pause   stop the containers, keeping the chain (start resumes it)
#   reset   stop, then start a fresh testnet
#   status  docker-compose ps plus each node's /status
#   logs    follow the logs (extra arguments go to docker-compose logs)
#   project print the compose project name
#
# Environment: CCOIN_IMAGE (default ccoin:dev), CCOIN_PORT_BASE (default 270:
# node N's API on 127.0.0.1:270N; set another for a second checkout running at
# the same time), CCOIN_INTERVAL (slot seconds, default 1, read only when the
# network is first created), COMPOSE_PROJECT_NAME (default ccoin-<checksum of
# this checkout's path>, so two checkouts on one host keep their containers,
# volumes and networks apart).
set -eu

root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
cd "$root"
export CCOIN_IMAGE="${CCOIN_IMAGE:-ccoin:dev}"
export CCOIN_PORT_BASE="${CCOIN_PORT_BASE:-270}"
export COMPOSE_PROJECT_NAME="${COMPOSE_PROJECT_NAME:-ccoin-$(printf %s "$root" | cksum | cut -d ' ' -f 1)}"

if [ "${1:-}" = project ]; then
	echo "$COMPOSE_PROJECT_NAME"
	exit 0
fi

if docker compose version >/dev/null 2>&1; then
	compose() { docker compose -f "$root/docker-compose.yml" "$@"; }
elif command -v docker-compose >/dev/null 2>&1; then
	compose() { docker-compose -f "$root/docker-compose.yml" "$@"; }
else
	echo "localnet: neither 'docker compose' nor 'docker-compose' is installed" >&2
	exit 1
fi

nodes="node1 node2 node3 node4"

start() {
	echo "building bin/ccoin"
	CGO_ENABLED=0 go build -trimpath -o bin/ccoin ./cmd/ccoin
	echo "building image $CCOIN_IMAGE"
	docker build -q -t "$CCOIN_IMAGE" . >/dev/null
	compose up -d
	printf 'waiting for the nodes to be healthy'
	i=0
	while :; do
		ok=0
		for n in $nodes; do
			h=$(docker inspect -f '{{.State.Health.Status}}' "$(compose ps -q "$n")" 2>/dev/null || echo none)
			[ "$h" = healthy ] && ok=$((ok + 1))
		done
		[ "$ok" -eq 4 ] && break
		i=$((i + 1))
		if [ "$i" -gt 90 ]; then
			echo; echo "localnet: nodes not healthy after 90 s" >&2
			compose ps >&2
			exit 1
		fi
		printf .
		sleep 1
	done
	echo
	mkdir -p .testnet
	init=$(compose ps -q init)
	docker cp "$init:/testnet/devnet.json" .testnet/devnet.json
	docker cp "$init:/testnet/genesis.json" .testnet/genesis.json
	rm -rf .testnet/faucet && docker cp "$init:/testnet/faucet" .testnet/faucet
	faucet=$(sed -n 's/.*"faucet_address": "\([0-9a-f]*\)".*/\1/p' .testnet/devnet.json)
	k=1
	for n in $nodes; do
		echo "$n  http://127.0.0.1:${CCOIN_PORT_BASE}0$k"
		k=$((k + 1))
	done
	echo "faucet $faucet: key in .testnet/faucet (e.g. ccoin send --datadir .testnet/faucet ...)"
}

remove() {
	compose down -v --remove-orphans
	rm -rf .testnet
}

case "${1:-}" in
start) start ;;
stop) remove ;;
pause) compose stop ;;
reset) remove; start ;;
status)
	compose ps
	k=1
	for n in $nodes; do
		printf '%s ' "$n"
		bin/ccoin status --node "http://127.0.0.1:${CCOIN_PORT_BASE}0$k" 2>&1 |
			grep -E '"(height|finalized_height|sync|peers)"|error' | tr -d ' \n'
		echo
		k=$((k + 1))
	done
	;;
logs) shift; compose logs "$@" ;;
*)
	echo "usage: $0 start|stop|pause|reset|status|logs|project" >&2
	exit 2
	;;
esac
