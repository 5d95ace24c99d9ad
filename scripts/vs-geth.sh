#!/usr/bin/env bash
# vs-geth.sh [N] [RUNS]: go-ethereum --dev against a one-validator ccoin devnet,
# side by side on this machine, for issue 15's target "one validator >= 25,000
# transfers/s and >= 4x go-ethereum --dev (gas limit 1G, period 1)".
#
# Each run starts a fresh geth --dev (state in memory, loopback only, the flags
# of the anchor README) and loads it with the anchor's load generator, then
# starts a fresh one-validator ccoin devnet in a temporary directory and loads
# it with `ccoin bench`. Both load shapes are the same: N pre-signed transfers
# from 200 senders, signed before the clock starts, submitted at the maximum
# rate, timed from the first submission to the last inclusion seen. The order
# alternates (odd runs geth first, even runs ccoin first) so neither side always
# gets the warmer machine. At the end it prints, per run, included tx/s of both,
# the ratio, latencies and the node's CPU-us per transfer, then the medians.
#
#   N     transfers per run (default 30000)
#   RUNS  runs of each (default 3)
#
# Binaries (the script fails if one is missing; it builds nothing itself):
#   GETH          default /work/tools/bin/geth, installed with
#                   cd /tmp && GOBIN=/work/tools/bin go install github.com/ethereum/go-ethereum/cmd/geth@v1.17.10
#   GETH_LOADGEN  default /work/tools/bin/geth-loadgen, built from the anchor's loadgen with
#                   cp -r /work/shared/anchors/geth-loadgen /tmp/geth-loadgen && chmod -R u+w /tmp/geth-loadgen &&
#                   cd /tmp/geth-loadgen && go build -o /work/tools/bin/geth-loadgen .
#   CCOIN         default bin/ccoin of this checkout (`make build`)
#   jq and curl must be installed.
#
# Other settings: GETH_PORT (geth's HTTP port, default 18545), CCOIN_BASE_PORT
# (devnet registry port, default 17900; the validator uses +10 and +11),
# CCOIN_DURATION (bench --duration, default 30s), CCOIN_MAX_BLOCK_BYTES (the
# devnet's max_block_bytes, default ccoin devnet's 8 MiB), GETH_DATADIR=1 (geth keeps its
# state on disk under OUT instead of in memory, as ccoin does), OUT (directory for
# logs, JSON reports and the devnets; default a new /tmp/vs-geth.XXXXXX).
#
# Full measurement, on a quiet machine:  scripts/vs-geth.sh 30000 3
# (A few thousand transfers fit in one block of either chain, so tiny N only
# proves the script works; its rates say little.)
#
# CPU per transfer is the node process's utime+stime over the timed phase
# divided by the transfers included. geth: the loadgen reads it (-gethpid) from
# its first submission to the last inclusion it sees. ccoin: this script reads
# the devnet process's /proc stat when the bench prints its verify rate (the
# timed phase starts right after) and when the bench exits; the bench waits
# for finality too, about one more slot, so ccoin's figure errs high.
# geth gets --ipcdisable besides the README's flags, so no IPC socket is left in
# /tmp or collides with another geth; it changes nothing on the HTTP path.
set -euo pipefail

root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
N=${1:-30000}
RUNS=${2:-3}
GETH=${GETH:-/work/tools/bin/geth}
GETH_LOADGEN=${GETH_LOADGEN:-/work/tools/bin/geth-loadgen}
CCOIN=${CCOIN:-$root/bin/ccoin}
GETH_PORT=${GETH_PORT:-18545}
CCOIN_BASE_PORT=${CCOIN_BASE_PORT:-17900}
CCOIN_DURATION=${CCOIN_DURATION:-30s}
CCOIN_MAX_BLOCK_BYTES=${CCOIN_MAX_BLOCK_BYTES:-8388608}
GETH_DATADIR=${GETH_DATADIR:-}

die() { echo "vs-geth: $*" >&2; exit 1; }

case $N in '' | *[!0-9]*) die "N must be a positive integer, got '$N'" ;; esac
case $RUNS in '' | *[!0-9]*) die "RUNS must be a positive integer, got '$RUNS'" ;; esac
[ "$N" -gt 0 ] && [ "$RUNS" -gt 0 ] || die "N and RUNS must be positive"
[ -x "$GETH" ] || die "geth not found at $GETH (set GETH, or: cd /tmp && GOBIN=/work/tools/bin go install github.com/ethereum/go-ethereum/cmd/geth@v1.17.10)"
[ -x "$GETH_LOADGEN" ] || die "geth loadgen not found at $GETH_LOADGEN (set GETH_LOADGEN, or build /work/shared/anchors/geth-loadgen, see this script's header)"
[ -x "$CCOIN" ] || die "ccoin not found at $CCOIN (run 'make build' in $root, or set CCOIN)"
command -v jq >/dev/null || die "jq is needed to read the JSON reports"
command -v curl >/dev/null || die "curl is needed to wait for the nodes"

OUT=${OUT:-$(mktemp -d /tmp/vs-geth.XXXXXX)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
CLK_TCK=$(getconf CLK_TCK)
node_http=$((CCOIN_BASE_PORT + 11))

# Processes this script started; the trap stops whichever is still running.
geth_pid="" devnet_pid="" load_pid=""

stop_pid() { # pid: SIGTERM, up to 20 s for a clean stop, then SIGKILL
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 200; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "vs-geth: pid $pid ignored SIGTERM for 20 s, killing it" >&2
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_pid "$load_pid"
	stop_pid "$geth_pid"
	stop_pid "$devnet_pid"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_free() { # port: fail when something already listens on 127.0.0.1:port
	if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
		die "127.0.0.1:$1 is already in use (pick other GETH_PORT / CCOIN_BASE_PORT)"
	fi
}

cpu_ticks() { # pid: utime+stime in clock ticks, from /proc/pid/stat
	local stat f
	stat=$(<"/proc/$1/stat")
	read -r -a f <<<"${stat##*") "}" # the fields after the command name
	echo $((f[11] + f[12])) # utime, stime (fields 14 and 15 of stat)
}

rpc_block() { # geth's block number, or nothing while it does not answer
	curl -sf -m 2 -H 'Content-Type: application/json' \
		-d '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}' \
		"http://127.0.0.1:$GETH_PORT" 2>/dev/null | jq -r '.result // empty' 2>/dev/null || true
}

# run_geth i: fresh geth --dev, the anchor loadgen, geth stopped. Writes
# $OUT/geth-i.json (the loadgen report) and geth-i.log / geth-i.loadgen.log.
run_geth() {
	local i=$1 log="$OUT/geth-$1.log" lglog="$OUT/geth-$1.loadgen.log" json="$OUT/geth-$1.json" t dd=()
	port_free "$GETH_PORT"
	if [ -n "$GETH_DATADIR" ]; then dd=(--datadir "$OUT/geth-$i.data"); fi
	echo "run $i: geth --dev ${dd[*]:-(in memory)}"
	"$GETH" --dev --dev.period 1 --dev.gaslimit 1000000000 --miner.gaslimit 1000000000 \
		--rpc.txfeecap 0 --http --http.addr 127.0.0.1 --http.port "$GETH_PORT" --http.api eth,net,web3,txpool \
		--nodiscover --maxpeers 0 --nat none --port 0 --authrpc.port 0 \
		--txpool.globalslots 100000 --txpool.accountslots 5000 \
		--txpool.globalqueue 100000 --txpool.accountqueue 5000 \
		--ipcdisable "${dd[@]}" >"$log" 2>&1 &
	geth_pid=$!
	for ((t = 0; ; t++)); do
		kill -0 "$geth_pid" 2>/dev/null || { tail -n 20 "$log" >&2; die "geth exited during start (log $log)"; }
		[ -n "$(rpc_block)" ] && break
		[ "$t" -lt 600 ] || die "geth's RPC did not answer within 60 s (log $log)"
		sleep 0.1
	done
	"$GETH_LOADGEN" -rpc "http://127.0.0.1:$GETH_PORT" -n "$N" -gethpid "$geth_pid" -json "$json" >"$lglog" 2>&1 &
	load_pid=$!
	if ! wait "$load_pid"; then
		load_pid=""
		tail -n 20 "$lglog" >&2
		die "geth loadgen failed (log $lglog)"
	fi
	load_pid=""
	stop_pid "$geth_pid"
	geth_pid=""
	[ -s "$json" ] || die "geth loadgen wrote no report (log $lglog)"
	jq -r '"  geth:  included \(.included)/\(.n) (receipts ok \(.receipts_ok), submit errors \(.submit_errors)) at \(.e2e_tps|floor) tx/s, p50 \(.p50_ms) ms, p99 \(.p99_ms) ms, \((.geth_cpu_s*1e6/(if .included>0 then .included else 1 end))|floor) CPU-us/tx"' "$json"
}

# run_ccoin i: fresh one-validator devnet, ccoin bench, devnet stopped. Writes
# $OUT/ccoin-i.json (the bench report plus the node's CPU over the timed
# phase), ccoin-i.devnet.log, ccoin-i.bench.log; the devnet is $OUT/ccoin-i.
run_ccoin() {
	local i=$1 dir="$OUT/ccoin-$1" log="$OUT/ccoin-$1.devnet.log" blog="$OUT/ccoin-$1.bench.log"
	local json="$OUT/ccoin-$1.json" t h line cpu0="" cpu1 rc=0
	for p in "$CCOIN_BASE_PORT" $((CCOIN_BASE_PORT + 10)) "$node_http"; do port_free "$p"; done
	rm -rf "$dir"
	echo "run $i: ccoin devnet, 1 validator, $dir"
	"$CCOIN" devnet --dir "$dir" --base-port "$CCOIN_BASE_PORT" --validators 1 --basic 0 \
		--max-block-bytes "$CCOIN_MAX_BLOCK_BYTES" >"$log" 2>&1 &
	devnet_pid=$!
	for ((t = 0; ; t++)); do
		kill -0 "$devnet_pid" 2>/dev/null || { tail -n 20 "$log" >&2; die "ccoin devnet exited during start (log $log)"; }
		h=$(curl -sf -m 2 "http://127.0.0.1:$node_http/status" 2>/dev/null | jq -r '.height // empty' 2>/dev/null || true)
		[ -n "$h" ] && [ "$h" -ge 1 ] && break
		[ "$t" -lt 600 ] || die "the ccoin validator produced no block within 60 s (log $log, $dir/node1/node.log)"
		sleep 0.1
	done
	: >"$blog" # exists before the loop below reads it
	"$CCOIN" bench --dir "$dir" --txs "$N" --rate max --duration "$CCOIN_DURATION" --json "$json.bench" >"$blog" 2>&1 &
	load_pid=$!
	# The timed phase starts right after the bench prints its verify rate
	# (after keygen, funding, pre-signing, calibration): the node's CPU is
	# read then and when the bench ends, as the geth loadgen does for geth.
	while [ -z "$cpu0" ] && kill -0 "$load_pid" 2>/dev/null; do
		while IFS= read -r line; do
			case $line in "verify rate "*) cpu0=$(cpu_ticks "$devnet_pid"); break ;; esac
		done <"$blog"
		[ -n "$cpu0" ] || sleep 0.01
	done
	wait "$load_pid" || rc=$?
	load_pid=""
	cpu1=$(cpu_ticks "$devnet_pid")
	[ "$rc" -eq 0 ] || { tail -n 20 "$blog" >&2; die "ccoin bench failed with status $rc (log $blog)"; }
	stop_pid "$devnet_pid"
	devnet_pid=""
	[ -s "$json.bench" ] || die "ccoin bench wrote no report (log $blog)"
	[ -n "$cpu0" ] || die "ccoin bench never printed its verify rate line (log $blog)"
	jq --argjson cpu "$(awk -v a="$cpu0" -v b="$cpu1" -v hz="$CLK_TCK" 'BEGIN { printf "%.3f", (b - a) / hz }')" \
		'. + {node_cpu_s: $cpu}' "$json.bench" >"$json"
	rm -f "$json.bench"
	jq -r '"  ccoin: included \(.included)/\(.txs) (accepted \(.accepted), unsent \(.unsent)) at \(.included_rate|floor) tx/s, p50 \(.inclusion_latency.p50_ms|floor) ms, p99 \(.inclusion_latency.p99_ms|floor) ms, \((.node_cpu_s*1e6/(if .included>0 then .included else 1 end))|floor) CPU-us/tx"' "$json"
}

echo "vs-geth: N=$N RUNS=$RUNS, reports in $OUT"
echo "  geth   $("$GETH" version 2>/dev/null | sed -n 's/^Version: //p') ($GETH), loadgen $GETH_LOADGEN"
echo "  ccoin  $(cd "$root" && git describe --always --dirty 2>/dev/null || echo '?') ($CCOIN)"
echo "  load   $(cut -d ' ' -f 1-3 /proc/loadavg) (1/5/15 min) on $(nproc) CPUs at start"
for ((i = 1; i <= RUNS; i++)); do
	if ((i % 2)); then run_geth "$i"; run_ccoin "$i"; else run_ccoin "$i"; run_geth "$i"; fi
done

# ---- table ----
tsv="$OUT/summary.tsv"
{
	printf 'run\tgeth_tps\tccoin_tps\tratio\tgeth_p50_ms\tgeth_p99_ms\tccoin_p50_ms\tccoin_p99_ms\tgeth_cpu_us\tccoin_cpu_us\tcomplete\n'
	for ((i = 1; i <= RUNS; i++)); do
		g="$OUT/geth-$i.json" c="$OUT/ccoin-$i.json"
		gt=$(jq '.e2e_tps' "$g") ct=$(jq '.included_rate' "$c")
		gok=$(jq '.included == .n and .receipts_ok == .n and .submit_errors == 0' "$g")
		cok=$(jq '.included == .txs and .accepted == .txs' "$c")
		complete=yes
		[ "$gok" = true ] || complete="NO(geth)"
		[ "$cok" = true ] || complete="${complete/yes/}NO(ccoin)"
		printf '%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$i" "$gt" "$ct" \
			"$(awk -v a="$ct" -v b="$gt" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')" \
			"$(jq '.p50_ms' "$g")" "$(jq '.p99_ms' "$g")" \
			"$(jq '.inclusion_latency.p50_ms' "$c")" "$(jq '.inclusion_latency.p99_ms' "$c")" \
			"$(jq '.geth_cpu_s*1e6/(if .included>0 then .included else 1 end)' "$g")" \
			"$(jq '.node_cpu_s*1e6/(if .included>0 then .included else 1 end)' "$c")" \
			"$complete"
	done
} >"$tsv"

median() { # column number of summary.tsv
	tail -n +2 "$tsv" | cut -f "$1" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo
echo "N=$N transfers per run, geth $( [ -n "$GETH_DATADIR" ] && echo on disk || echo in memory ), ccoin one validator; load $(cut -d ' ' -f 1-3 /proc/loadavg) at end"
awk -F '\t' -v mg="$(median 2)" -v mc="$(median 3)" -v mr="$(median 4)" -v gp50="$(median 5)" -v gp99="$(median 6)" \
	-v cp50="$(median 7)" -v cp99="$(median 8)" -v gcpu="$(median 9)" -v ccpu="$(median 10)" '
	BEGIN {
		hdr = "%-7s %11s %11s %7s %18s %18s %9s %9s  %s\n"
		row = "%-7s %11.0f %11.0f %6.2fx %8.0f / %7.0f %8.0f / %7.0f %9.0f %9.0f  %s\n"
		printf hdr, "run", "geth tx/s", "ccoin tx/s", "ratio", "geth p50/p99 ms", "ccoin p50/p99 ms", "geth us", "ccoin us", "all included"
	}
	NR > 1 { printf row, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 }
	END {
		printf row, "median", mg, mc, mr, gp50, gp99, cp50, cp99, gcpu, ccpu, ""
		printf "ratio of medians %.2fx; \"us\" = the node process'"'"'s CPU-microseconds per included transfer over the timed phase\n", (mg > 0 ? mc / mg : 0)
		printf "issue 15 target (ccoin >= 25000 tx/s and >= 4x geth): %s\n", (mc >= 25000 && mr >= 4 ? "met" : "missed")
	}' "$tsv"
echo "per-run reports and logs: $OUT (summary.tsv, geth-i.json, ccoin-i.json)"
if grep -q 'NO(' "$tsv"; then
	echo "vs-geth: some runs did not include every transfer (column 'all included'); see the logs" >&2
	exit 1
fi
