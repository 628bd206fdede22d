#!/usr/bin/env bash
# Records a terminal session into SessionForge: starts a recording, runs a shell (or -c COMMAND)
# under util-linux `script`, turns its output and timing into asciicast v2 events, posts them as
# NDJSON frames (X-Frame-Seq), stops the recording, waits for the archive and prints a playback URL.
# Needs bash, curl and script (util-linux ≥ 2.35). Usage:
#   SF_URL=http://localhost:8080 SF_TOKEN=<session token or API key> SF_ORG=<org id> \
#     scripts/record.sh [-t TITLE] [-c COMMAND]
set -euo pipefail

url=${SF_URL:-http://localhost:8080}
token=${SF_TOKEN:?set SF_TOKEN to a session token or an API key}
org=${SF_ORG:?set SF_ORG to the org id}
title="shell on $(hostname)"
command=""
while getopts "t:c:" opt; do
  case $opt in
    t) title=$OPTARG ;;
    c) command=$OPTARG ;;
    *) echo "usage: $0 [-t TITLE] [-c COMMAND]" >&2; exit 2 ;;
  esac
done
command -v script >/dev/null || { echo "script (util-linux) is required" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

api() { # METHOD PATH [curl args…] → body on stdout; fails on HTTP ≥ 400
  local method=$1 path=$2
  shift 2
  curl -sS --fail-with-body -X "$method" -H "Authorization: Bearer $token" "$@" "$url$path"
}

# JSON string body for raw bytes on stdin: quotes, backslashes and control bytes escaped, the rest
# (UTF-8 included) passed through; the server replaces invalid UTF-8.
json_escape() {
  local out="" byte
  for byte in $(od -An -v -tu1); do
    if ((byte == 34)); then out+='\"'
    elif ((byte == 92)); then out+='\\'
    elif ((byte < 32 || byte == 127)); then out+=$(printf '\\u%04x' "$byte")
    else out+=$(printf "\\x$(printf '%02x' "$byte")")
    fi
  done
  printf '%s' "$out"
}

cols=$(tput cols 2>/dev/null || echo 80)
rows=$(tput lines 2>/dev/null || echo 24)
title_json=$(printf '%s' "$title" | json_escape)
id=$(api POST "/api/orgs/$org/recordings" -H 'content-type: application/json' \
  -d "{\"title\":\"$title_json\",\"width\":$cols,\"height\":$rows,\"machineId\":\"$(hostname)\"}" |
  sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
echo "recording $id — exit the shell to finish" >&2

# Classic timing: one "<seconds since previous chunk> <bytes>" line per output chunk.
if [[ -n $command ]]; then
  script -q -e --log-out "$work/out" --log-timing "$work/timing" -c "$command" >/dev/null </dev/null
else
  script -q -e --log-out "$work/out" --log-timing "$work/timing"
fi

# asciicast events, ~1 MiB of NDJSON per frame request.
seq=0
frame="$work/frame"
: >"$frame"
send_frame() {
  [[ -s $frame ]] || return 0
  api POST "/api/recordings/$id/frames" -H 'content-type: application/x-ndjson' \
    -H "X-Frame-Seq: $seq" --data-binary "@$frame" >/dev/null
  seq=$((seq + 1))
  : >"$frame"
}
# script's log starts with a "Script started…" line that is not terminal output: skip it.
offset=$(($(head -n1 "$work/out" | wc -c) + 1))
while read -r time length; do
  data=$(tail -c "+$offset" "$work/out" | head -c "$length" | json_escape)
  offset=$((offset + length))
  printf '[%s, "o", "%s"]\n' "$time" "$data" >>"$frame"
  (($(wc -c <"$frame") < 1048576)) || send_frame
done < <(awk '{ t += $1; printf "%.6f %d\n", t, $2 }' "$work/timing")
send_frame

api POST "/api/recordings/$id/stop" >/dev/null
for _ in $(seq 1 30); do
  playback=$(api GET "/api/recordings/$id/playback" 2>/dev/null) && break
  sleep 1
done
echo "${playback:?the archive did not finish in 30 s}" | sed -n 's/.*"url":"\([^"]*\)".*/\1/p'
