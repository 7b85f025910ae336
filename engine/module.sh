# shellcheck shell=bash
# Shared by scripts/setup.sh and engine/test.sh (source it): how fjord's engine sources in
# engine/*/ become one Go module, fjord.local/engine, built against
# github.com/pulumi/pulumi/sdk/v3 at the CLI's version. Functions only; no side effects on source.

# engine_src_hash SRC_DIR PULUMI_VERSION -> 12 hex chars keying the generated module and binaries.
# Every .go file counts (tests too), so the key changes whenever any engine source does.
engine_src_hash() {
  (echo "sdk v$2"; cd "$1" && find . -name '*.go' -type f | LC_ALL=C sort | xargs cat) | sha256sum | cut -c1-12
}

# engine_module_write SRC_DIR PULUMI_VERSION OUT_DIR TIDY_LOG: (re)generate the module in OUT_DIR:
# go.mod, each folder of .go files as package fjord.local/engine/<folder>, then `go mod tidy`
# (output in TIDY_LOG). Returns non-zero when tidy fails.
engine_module_write() {
  local src="$1" pv="$2" out="$3" log="$4" d
  rm -rf "$out" && mkdir -p "$out"
  printf 'module fjord.local/engine\n\ngo 1.25\n\nrequire github.com/pulumi/pulumi/sdk/v3 v%s\n' "$pv" >"$out/go.mod"
  for d in "$src"/*/; do
    [ -n "$(ls "$d"*.go 2>/dev/null)" ] || continue
    mkdir -p "$out/$(basename "$d")" && cp "$d"*.go "$out/$(basename "$d")/"
  done
  (cd "$out" && go mod tidy >"$log" 2>&1)
}
