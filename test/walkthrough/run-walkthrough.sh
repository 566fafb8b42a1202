#!/usr/bin/env bash
# Runs the README's walkthrough as written: every ```sh block in order, in a scratch directory where
# `npx keyward` is the built CLI of this checkout (run `npm run build` first). "# terminal 1" blocks start
# (or restart) the server in the background instead, on a free port, and the bootstrap token is taken from
# its log, as a reader would copy it. Not exercised: `git clone` and `npm install`.
# Exit 0 when the walkthrough worked: the unsealed file is identical, the refused workload wrote nothing,
# and the audit log holds the release and the denial.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/keyward-walkthrough-XXXXXX")
server_pid=""

stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
}
cleanup() {
  stop_server
  rm -rf "$work"
}
trap cleanup EXIT

port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")

# `npx keyward` resolves to this checkout's bin; policies/ as in a clone.
mkdir -p "$work/node_modules/.bin"
ln -s "$repo/bin/keyward.js" "$work/node_modules/.bin/keyward"
echo '{"name":"walkthrough","private":true}' > "$work/package.json"
cp -r "$repo/policies" "$work/policies"

# start_server [VAR=value...]: what `[VAR=value...] npm start` does in terminal 1.
start_server() {
  stop_server
  : > "$work/server.log"
  env "$@" KEYWARD_PORT="$port" node "$repo/bin/keyward.js" serve >> "$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 300); do
    grep -q '"msg":"keyward listening"' "$work/server.log" && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log"; echo "server exited" >&2; exit 1; }
    sleep 0.2
  done
  grep -q '"msg":"keyward listening"' "$work/server.log" || { cat "$work/server.log"; echo "server did not start" >&2; exit 1; }
  if [ -z "${KEYWARD_TOKEN:-}" ]; then
    KEYWARD_TOKEN=$(node -e '
      for (const line of require("fs").readFileSync(process.argv[1], "utf8").split("\n"))
        if (line.includes("bootstrapAdminToken")) { console.log(JSON.parse(line).bootstrapAdminToken); break; }' "$work/server.log")
    [ -n "$KEYWARD_TOKEN" ] || { echo "no bootstrap token in the log" >&2; exit 1; }
    export KEYWARD_TOKEN
  fi
}

# The walkthrough's shell blocks, in order; terminal-1 blocks become start_server calls, and the two
# `export` lines the reader fills in by hand are provided here.
node - "$repo/README.md" > "$work/steps.sh" <<'EXTRACT'
// Only the README's walkthrough section: from its heading to the next second-level heading.
const readme = require('fs').readFileSync(process.argv[2], 'utf8');
const start = readme.indexOf('## Walkthrough');
if (start < 0) throw new Error('README.md has no ## Walkthrough section');
const rest = readme.slice(start + 3);
const text = rest.slice(0, rest.search(/\n## /) >= 0 ? rest.search(/\n## /) : rest.length);
const out = [];
for (const [, block] of text.matchAll(/```sh\n([\s\S]*?)```/g)) {
  const lines = block.replace(/\n$/, '').split('\n');
  if (lines[0] === '# terminal 1') {
    for (const line of lines) {
      const m = /^(.*)npm start$/.exec(line);
      if (m) out.push(`start_server ${m[1]}`);
    }
  } else {
    out.push(...lines.filter((l) => !/^export (KEYWARD_TOKEN|KW)=/.test(l)));
  }
}
console.log(out.join('\n'));
EXTRACT

cd "$work"
unset KEYWARD_TOKEN KEYWARD_DATA_DIR KEYWARD_EXTRA_ANCHORS KEYWARD_COLLATERAL_DIR KEYWARD_REVOCATION
export KW="http://127.0.0.1:$port"
# shellcheck disable=SC1091
source ./steps.sh

# What the reader should have seen.
cmp model.safetensors model.unsealed
[ ! -e refused.bin ] || { echo "refused.bin exists" >&2; exit 1; }
curl -sf -H "authorization: Bearer $KEYWARD_TOKEN" "$KW/v1/audit?action=key.release&target=$KEY" | node -e '
  const items = JSON.parse(require("fs").readFileSync(0, "utf8")).items;
  const ok = items.filter((e) => e.outcome === "success" && e.details.what === "datakey");
  const denied = items.filter((e) => e.outcome === "denied" && e.details.code === "ERR_POLICY_DENIED"
    && e.details.reasons.map((r) => r.name).join() === "measurement");
  if (ok.length !== 1 || denied.length !== 1) { console.error(JSON.stringify(items, null, 1)); process.exit(1); }'
grep -q 'EXTRA TRUST ANCHORS CONFIGURED' "$work/server.log"
echo "walkthrough OK"
