#!/usr/bin/env bash
# Build kube-apiserver and etcd from the Go module proxy for the `k8s` test tier (envtest style: there is
# no Docker engine here, so no kind/k3d). The binaries are cached outside the repo, by version, at
#   ${PREFLIGHT_CACHE_DIR:-$HOME/.cache/preflight}/k8s/<k8s version>/{kube-apiserver,etcd}
# and the build is skipped when both exist. The first build takes 10-20 minutes on 2 cores.
#
# kube-apiserver: k8s.io/kubernetes is not meant to be required as a module: its go.mod lists every
# k8s.io/<staging> module as v0.0.0 with a replace to ./staging/... . A wrapper module therefore requires
# k8s.io/kubernetes vX.Y.Z and replaces each staging module with its published v0.Y.Z.
# etcd: a wrapper module requiring go.etcd.io/etcd/server/v3 whose main calls etcdmain.Main.
#
# Usage: scripts/build-k8s-binaries.sh            (prints the directory holding the binaries)
# Env:   PREFLIGHT_K8S_VERSION (default v1.36.3), PREFLIGHT_ETCD_VERSION (default v3.6.8, what that
#        kubernetes release pins), PREFLIGHT_CACHE_DIR.
set -euo pipefail

K8S_VERSION="${PREFLIGHT_K8S_VERSION:-v1.36.3}"
ETCD_VERSION="${PREFLIGHT_ETCD_VERSION:-v3.6.8}"
CACHE_ROOT="${PREFLIGHT_CACHE_DIR:-$HOME/.cache/preflight}"
OUT_DIR="$CACHE_ROOT/k8s/$K8S_VERSION"
# Staging modules are published as v0.<minor>.<patch> for kubernetes v1.<minor>.<patch>.
STAGING_VERSION="v0.${K8S_VERSION#v1.}"

log() { echo "[build-k8s-binaries] $*" >&2; }

if [[ -x "$OUT_DIR/kube-apiserver" && -x "$OUT_DIR/etcd" ]]; then
    log "cached: $OUT_DIR"
    echo "$OUT_DIR"
    exit 0
fi

if ! command -v go >/dev/null 2>&1; then
    log "Go is not installed: cannot build kube-apiserver/etcd (install Go >= 1.26)"
    exit 2
fi

mkdir -p "$OUT_DIR"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/preflight-k8s-build.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
export CGO_ENABLED=0 GOFLAGS="-buildvcs=false -mod=mod" GOTOOLCHAIN=local
# Be a good neighbour on a small shared machine.
NICE=(nice -n 10)
TIMES_FILE="$OUT_DIR/build-times.txt"

build_etcd() {
    if [[ -x "$OUT_DIR/etcd" ]]; then return; fi
    local dir="$WORK/etcd" start end
    mkdir -p "$dir"
    start=$(date +%s)
    cat >"$dir/go.mod" <<EOF
module preflight.local/etcd

go 1.26.0

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
EOF
    cat >"$dir/main.go" <<'EOF'
// Command etcd runs etcd's own entrypoint; this wrapper exists only so it can be built from the module proxy.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
EOF
    (cd "$dir" && "${NICE[@]}" go mod tidy && "${NICE[@]}" go build -trimpath -ldflags "-s -w" -o "$dir/etcd" .)
    mv "$dir/etcd" "$OUT_DIR/etcd"
    end=$(date +%s)
    log "etcd $ETCD_VERSION built in $((end - start)) s"
    echo "etcd $ETCD_VERSION build_seconds=$((end - start)) on $(nproc) cores $(date -u +%FT%TZ)" >>"$TIMES_FILE"
}

build_apiserver() {
    if [[ -x "$OUT_DIR/kube-apiserver" ]]; then return; fi
    local dir="$WORK/apiserver" start end gomod
    mkdir -p "$dir"
    start=$(date +%s)
    gomod="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')"
    {
        printf 'module preflight.local/kube-apiserver\n\ngo 1.26.0\n\ngodebug default=go1.26\n\n'
        printf 'require k8s.io/kubernetes %s\n\n' "$K8S_VERSION"
        # Every k8s.io module that kubernetes' go.mod requires at v0.0.0 is a staging module.
        go mod edit -json "$gomod" | python3 -c '
import json, sys
mod = json.load(sys.stdin)
for req in mod.get("Require") or []:
    if req["Path"].startswith("k8s.io/") and req["Version"] == "v0.0.0":
        print(req["Path"])
' | while read -r path; do
            printf 'replace %s => %s %s\n' "$path" "$path" "$STAGING_VERSION"
        done
    } >"$dir/go.mod"
    cat >"$dir/main.go" <<'EOF'
// Command kube-apiserver runs the upstream API server command; a wrapper so it builds from the module proxy.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
EOF
    # Stamp the version as the release build does, so /version says v1.Y.Z rather than v0.0.0-master.
    local minor="${K8S_VERSION#v1.}"
    minor="${minor%%.*}"
    local ldflags="-s -w"
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
        ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    done
    (cd "$dir" && "${NICE[@]}" go mod tidy && "${NICE[@]}" go build -trimpath -ldflags "$ldflags" -o "$dir/kube-apiserver" .)
    mv "$dir/kube-apiserver" "$OUT_DIR/kube-apiserver"
    end=$(date +%s)
    log "kube-apiserver $K8S_VERSION built in $((end - start)) s"
    echo "kube-apiserver $K8S_VERSION build_seconds=$((end - start)) on $(nproc) cores $(date -u +%FT%TZ)" >>"$TIMES_FILE"
}

build_etcd
build_apiserver
"$OUT_DIR/kube-apiserver" --version >&2 || true
"$OUT_DIR/etcd" --version >&2 || true
echo "$OUT_DIR"
