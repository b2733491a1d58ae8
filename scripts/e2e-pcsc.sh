#!/usr/bin/env bash
# End-to-end through a real PC/SC stack: pcscd with vsmartcard's vpcd driver, the virtual card
# `ssc-card serve` behind it, and clients nobody here wrote: scriptor (pcsc-tools),
# opensc-tool (OpenSC) and pyscard, plus ssc-harness through the `pcsc` crate, and the
# README's own client examples (scripts/pyscard-read.py, harness/examples/pcsc_read.rs). The
# binaries are installed as the README says (`cargo install --path ...`), into a folder of
# its own.
#
#   bash scripts/e2e-pcsc.sh
#
# Needs: apt-get install pcscd vsmartcard-vpcd libpcsclite-dev pkg-config pcsc-tools opensc
# python3-pyscard. Without them it is SKIPPED (exit 0) with a message, except under CI=true,
# where a missing package is a failure. Uses a running pcscd that has vpcd loaded, or starts
# its own (and then also checks that the card comes back when pcscd restarts). Everything it
# starts is stopped by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

READER='Virtual PCD 00 00'
SSSE='00 A4 04 00 0F 73 78 31 2E 73 68 2E C9 E7 BB E1 B1 A3 D5 CF'
FCI='6F 1C 84 0F 73 78 31 2E 73 68 2E C9 E7 BB E1 B1 A3 D5 CF A5 09 88 01 1E 9F 0C 03 86 01 03 90 00'

missing=()
command -v pcscd >/dev/null || missing+=(pcscd)
[ -e /usr/lib/pcsc/drivers/serial/libifdvpcd.so ] || missing+=(vsmartcard-vpcd)
command -v scriptor >/dev/null || missing+=(pcsc-tools)
command -v opensc-tool >/dev/null || missing+=(opensc)
{ command -v pkg-config >/dev/null && pkg-config --exists libpcsclite; } || missing+=(libpcsclite-dev pkg-config)
/usr/bin/python3 -c 'import smartcard' 2>/dev/null || missing+=(python3-pyscard)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "${CI:-}" = true ]; then
    echo "e2e-pcsc: FAILED: missing ${missing[*]}" >&2
    exit 1
  fi
  echo "e2e-pcsc: SKIPPED: needs ${missing[*]} (apt-get install pcscd vsmartcard-vpcd libpcsclite-dev pkg-config pcsc-tools opensc python3-pyscard)"
  exit 0
fi

LOGS=$(mktemp -d)
echo "== installing ssc-card and ssc-harness (--features pcsc) as the README says"
cargo install -q --locked --path applet-sim --root "$LOGS/install"
cargo install -q --locked --path harness --features pcsc --root "$LOGS/install"
BIN="$LOGS/install/bin"
PCSCD_PID=
SERVE_PID=

cleanup() {
  local rc=$?
  [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null || true
  [ -n "$PCSCD_PID" ] && kill "$PCSCD_PID" 2>/dev/null && wait "$PCSCD_PID" 2>/dev/null || true
  if [ $rc -ne 0 ]; then
    echo "--- ssc-card serve log (tail)"; tail -n 30 "$LOGS/serve.log" 2>/dev/null || true
    echo "--- pcscd log (tail)"; tail -n 30 "$LOGS/pcscd.log" 2>/dev/null || true
  fi
  rm -rf "$LOGS"
  exit $rc
}
trap cleanup EXIT

# Polls a command until it succeeds, for at most $1 seconds.
wait_for() {
  local limit=$1; shift
  local end=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $end ]; then echo "e2e-pcsc: timed out waiting for: $*" >&2; return 1; fi
    sleep 0.05
  done
}
vpcd_listening() { awk 'NR > 1 && $4 == "0A" { print $2 }' /proc/net/tcp | grep -qi ':8C7B$'; }
vpcd_closed() { ! vpcd_listening; }
card_present() { "$BIN/ssc-harness" readers | grep -q "^$READER	card present"; }
# pcscd looks at its readers again while a client waits for a change: wait up to 300 ms.
card_gone() { ! "$BIN/ssc-harness" readers --wait 300 | grep -q "^$READER	card present"; }
process_gone() { ! kill -0 "$1" 2>/dev/null; }

start_pcscd() {
  pcscd -f > "$LOGS/pcscd.log" 2>&1 &
  PCSCD_PID=$!
  wait_for 20 vpcd_listening
}
start_serve() {
  "$BIN/ssc-card" serve -v "$@" 2>> "$LOGS/serve.log" &
  SERVE_PID=$!
  wait_for 20 card_present
}

stop_serve() {
  kill -TERM "$SERVE_PID"
  wait "$SERVE_PID" || { echo "ssc-card serve did not exit 0 on SIGTERM"; exit 1; }
  SERVE_PID=
  wait_for 20 card_gone
}

if vpcd_listening; then
  echo "== using the running pcscd (vpcd is listening on 35963)"
else
  echo "== starting pcscd -f"
  start_pcscd
fi
echo "== starting ssc-card serve"
start_serve
"$BIN/ssc-harness" readers

echo "== the conformance suite through the reader (card restored between cases)"
# The card is restored between cases, so the destructive (blocking) cases run too; the PSAM
# uses the gen3 card's test keys.
"$BIN/ssc-harness" run --reader "$READER" --restore-cmd "$BIN/ssc-card restore --pid $SERVE_PID" \
  --allow-destructive --keys vectors/keys/gen3.toml vectors > "$LOGS/run.txt" \
  || { cat "$LOGS/run.txt"; exit 1; }
# The areas, the requirements' tally and the totals (the report has the verdicts too).
awk '/^area /{f=1} f && /^$/{f=0} f' "$LOGS/run.txt"
grep -E '^(requirements:|[0-9]+ passed)' "$LOGS/run.txt"

echo "== scriptor (pcsc-tools): the SSSE FCI and the EF05 records"
cat > "$LOGS/script.txt" <<SCRIPT
reset
$SSSE
00 C0 00 00 1E
00 A4 02 00 02 EF 05
00 B2 01 04 12
00 B2 03 04 06
00 B2 07 04 0B
SCRIPT
scriptor -r "$READER" "$LOGS/script.txt" > "$LOGS/scriptor.out" 2>&1
flat=$(tr -s ' \n' ' ' < "$LOGS/scriptor.out")
for want in "< 61 1E" "< $FCI" "< 01 10 32 01 00 D1 56 00 00 05 00 1C 9B 25 FF FF FF FF 90 00" \
            "< 03 04 33 2E 30 30 90 00" "< 07 09 41 33 32 30 31 30 36 38 37 90 00"; do
  grep -qF "$want" <<< "$flat" || { echo "scriptor: missing '$want'"; cat "$LOGS/scriptor.out"; exit 1; }
done
echo "scriptor: FCI and records as expected"

echo "== opensc-tool (OpenSC): ATR and APDUs"
atr=$(opensc-tool -r "$READER" --atr)
[ "$atr" = "3b:6d:00:00:00:81:4a:44:46:86:60:32:01:00:1c:9b:25" ] || { echo "opensc-tool --atr: $atr"; exit 1; }
opensc-tool -r "$READER" -s "$SSSE" -s '00 C0 00 00 1E' > "$LOGS/opensc.out" 2>&1
# OpenSC reports the T=0 "61 1E" of the SELECT as success; the FCI comes with GET RESPONSE.
grep -q "SW1=0x90, SW2=0x00" "$LOGS/opensc.out" \
  && grep -qi "6F 1C 84 0F 73 78 31 2E 73 68 2E C9 E7 BB E1 B1" "$LOGS/opensc.out" \
  && grep -qi "A3 D5 CF A5 09 88 01 1E 9F 0C 03 86 01 03" "$LOGS/opensc.out" \
  || { echo "opensc-tool: unexpected"; cat "$LOGS/opensc.out"; exit 1; }
echo "opensc-tool: ATR $atr, SSSE selected, FCI delivered"

# The README's client examples: each reads the card number and the PIN's tries (3, on the card
# restored after the suite's last case).
"$BIN/ssc-card" restore --pid "$SERVE_PID"
client_ok() {
  grep -q "^card number  A32010687$" "$1" && grep -q "^PIN tries    3 left$" "$1" \
    || { echo "$2: unexpected"; cat "$1"; exit 1; }
}
if /usr/bin/python3 -c 'import smartcard' 2>/dev/null; then
  echo "== pyscard: scripts/pyscard-read.py (the README's Python example)"
  /usr/bin/python3 scripts/pyscard-read.py "$READER" > "$LOGS/pyscard.out"
  client_ok "$LOGS/pyscard.out" "scripts/pyscard-read.py"
  cat "$LOGS/pyscard.out"
elif [ "${CI:-}" = true ]; then
  echo "e2e-pcsc: FAILED: pyscard missing (python3-pyscard)" >&2
  exit 1
fi
echo "== the pcsc crate: harness/examples/pcsc_read.rs (the README's Rust example)"
cargo run --release -q -p harness --features pcsc --example pcsc_read -- "$READER" > "$LOGS/pcsc-rs.out"
client_ok "$LOGS/pcsc-rs.out" "examples/pcsc_read.rs"
cat "$LOGS/pcsc-rs.out"

echo "== ssc-harness card read without --keys: the public EF05, and what was skipped"
"$BIN/ssc-harness" card read --reader "$READER" > "$LOGS/read.out"
grep -q "^card number  *A32010687$" "$LOGS/read.out" \
  && grep -q "^skipped, no key  *EF06" "$LOGS/read.out" \
  || { echo "card read without keys: unexpected"; cat "$LOGS/read.out"; exit 1; }
echo "card read: card number read, EF06 said to need key 0A"

echo "== messages: an unknown reader lists the readers; an empty one asks for ssc-card serve"
expect_error() {  # expect_error WHAT TEXT COMMAND...: exit 2 and TEXT on stderr
  local what=$1 text=$2; shift 2
  local rc=0
  "$@" > /dev/null 2> "$LOGS/error.txt" || rc=$?
  [ $rc -eq 2 ] && grep -qF -- "$text" "$LOGS/error.txt" \
    || { echo "$what: exit $rc, expected 2 and '$text':"; cat "$LOGS/error.txt"; exit 1; }
  echo "$what: $(cat "$LOGS/error.txt")"
}
expect_error "unknown reader" "the readers are: \"$READER\"" \
  "$BIN/ssc-harness" run --reader "Virtual PCD" vectors/select
expect_error "no card" "is \`ssc-card serve\` running?" \
  "$BIN/ssc-harness" run --reader "Virtual PCD 00 01" vectors/select
expect_error "pin-unblock without keys" "give --keys FILE" \
  "$BIN/ssc-harness" card pin-unblock --reader "$READER"

echo "== a service-centre terminal with two readers (pyscard): the card and its PSAM"
# scripts/psam_terminal.py knows no key: every cryptogram comes from the PSAM's BF DE / 80 FA.
PSAM_READER='Virtual PCD 00 01'
psam_present() { "$BIN/ssc-harness" readers | grep -q "^$PSAM_READER	card present"; }
for profile in gen3 gen2; do
  stop_serve
  start_serve --psam --profile "$profile"
  wait_for 20 psam_present
  /usr/bin/python3 scripts/psam_terminal.py "$READER" "$PSAM_READER"
  if [ "$profile" = gen2 ]; then
    # The README's two-reader pyscard example (DES, so gen2), as printed there.
    awk '/^In Python with pyscard, the external authentication/ {f=1} f && /^```python/ {p=1; next}
         p && /^```/ {exit} p' README.md > "$LOGS/readme_psam.py"
    [ -s "$LOGS/readme_psam.py" ] || { echo "README: the pyscard PSAM example is gone"; exit 1; }
    out=$(/usr/bin/python3 "$LOGS/readme_psam.py")
    [ "$out" = "('', '9000')" ] || { echo "README pyscard PSAM example: $out"; exit 1; }
    echo "README's pyscard example with two readers: $out"
  fi
  # The same flows with the project's own terminal code, its cryptograms from the PSAM reader.
  # The Python terminal left the PIN at 654321: reset it to 123456 and check both.
  CARD=(card --reader "$READER" --psam-reader "$PSAM_READER")
  "$BIN/ssc-harness" "${CARD[@]}" read > "$LOGS/read.txt" \
    || { cat "$LOGS/read.txt"; exit 1; }
  grep -q 'yes (INTERNAL AUTHENTICATE' "$LOGS/read.txt" || { cat "$LOGS/read.txt"; exit 1; }
  "$BIN/ssc-harness" "${CARD[@]}" pin-reset --new-pin 123456 --trace 2> "$LOGS/trace.txt" \
    || { cat "$LOGS/trace.txt"; exit 1; }
  grep -q '^\[psam\] > BF DE 48 10' "$LOGS/trace.txt" && grep -q '^\[card\] > 84 24 00 01' "$LOGS/trace.txt" \
    || { echo "pin-reset --trace: no BF DE to the PSAM or 84 24 to the card"; cat "$LOGS/trace.txt"; exit 1; }
  "$BIN/ssc-harness" "${CARD[@]}" pin-unblock
  printf '%s\n00 20 00 00 03 12 34 56\n' "$SSSE" > "$LOGS/verify.txt"
  scriptor -r "$READER" "$LOGS/verify.txt" > "$LOGS/verify.out" 2>&1
  grep -q '< 90 00' "$LOGS/verify.out" || { cat "$LOGS/verify.out"; echo "PIN not reset by ssc-harness card"; exit 1; }
  # Personalisation after external authentication with UK (04, PSAM 48/12): a new issue date.
  "$BIN/ssc-harness" "${CARD[@]}" reissue --issue-date 20230101 > "$LOGS/reissue.txt" 2>&1 \
    || { cat "$LOGS/reissue.txt"; exit 1; }
  printf '%s\n00 B2 05 2C 06\n' "$SSSE" > "$LOGS/date.txt"
  scriptor -r "$READER" "$LOGS/date.txt" > "$LOGS/date.out" 2>&1
  grep -q '< 05 04 20 23 01 01 90 00' "$LOGS/date.out" \
    || { cat "$LOGS/reissue.txt" "$LOGS/date.out"; echo "reissue did not write EF05"; exit 1; }
  echo "ssc-harness card through the PSAM reader ($profile): read, pin-reset, pin-unblock, reissue (EF05 written with UK)"
done
stop_serve
start_serve

echo "== VERIFY throughput through pcscd"
"$BIN/ssc-harness" bench --reader "$READER" --seconds 3
# Each VERIFY crosses client -> pcscd -> ssc-card serve and back; on a small VM the wake-ups
# of one process by another on the other CPU dominate. With pcscd, the card and the client on
# one CPU (README, "Throughput through pcscd") the same exchange runs without them.
if [ -n "$PCSCD_PID" ] && command -v taskset >/dev/null; then
  echo "== VERIFY throughput through pcscd, with pcscd, ssc-card serve and the client on CPU 0"
  taskset -a -p -c 0 "$PCSCD_PID" >/dev/null
  taskset -a -p -c 0 "$SERVE_PID" >/dev/null
  taskset -c 0 "$BIN/ssc-harness" bench --reader "$READER" --seconds 3
  all_cpus="0-$(($(nproc) - 1))"
  taskset -a -p -c "$all_cpus" "$PCSCD_PID" >/dev/null
  taskset -a -p -c "$all_cpus" "$SERVE_PID" >/dev/null
fi

echo "== restart ssc-card serve: the card leaves and comes back"
stop_serve
start_serve
"$BIN/ssc-harness" run --reader "$READER" --filter select.ssse vectors | tail -n 1

echo "== durable state through pcscd: a wrong PIN survives a restart of ssc-card serve --state"
stop_serve
start_serve --state "$LOGS/card.state"
printf '%s\n00 20 00 00 03 11 11 11\n' "$SSSE" > "$LOGS/wrong.txt"
scriptor -r "$READER" "$LOGS/wrong.txt" > "$LOGS/wrong.out" 2>&1
grep -q '< 63 C2' "$LOGS/wrong.out" || { cat "$LOGS/wrong.out"; echo "wrong PIN not answered 63 C2"; exit 1; }
stop_serve
start_serve --state "$LOGS/card.state"
printf '%s\n00 20 00 00\n' "$SSSE" > "$LOGS/query.txt"
scriptor -r "$READER" "$LOGS/query.txt" > "$LOGS/query.out" 2>&1
grep -q '< 63 C2' "$LOGS/query.out" || { cat "$LOGS/query.out"; echo "the try counter did not survive the restart"; exit 1; }
echo "state file: the counter (2 tries left) survived the restart"

echo "== safe on a real card: a card below its declared tries is refused before any case"
expect_error "counter below the declaration" "has 2 tries left, the declaration says 3" \
  "$BIN/ssc-harness" run --reader "$READER" --profile gen3 vectors/pin
scriptor -r "$READER" "$LOGS/query.txt" > "$LOGS/query.out" 2>&1
grep -q '< 63 C2' "$LOGS/query.out" || { cat "$LOGS/query.out"; echo "the refused run changed the counter"; exit 1; }
echo "refused: the counter is still 2"

echo "== safe on a real card: a card whose PIN is not the declared one (restored at once)"
stop_serve
"$BIN/ssc-card" profile --show gen3 | sed '0,/value = "123456"/s//value = "654321"/' > "$LOGS/other-pin.toml"
start_serve --profile "$LOGS/other-pin.toml"
expect_error "PIN not the declared one" "the card was restored and its counter is back" \
  "$BIN/ssc-harness" run --reader "$READER" --profile gen3 \
  --restore-cmd "$BIN/ssc-card restore --pid $SERVE_PID" vectors/pin
scriptor -r "$READER" "$LOGS/query.txt" > "$LOGS/query.out" 2>&1
grep -q '< 63 C3' "$LOGS/query.out" || { cat "$LOGS/query.out"; echo "the refused run changed the counter"; exit 1; }
echo "refused: the counter is still 3"
stop_serve
start_serve

echo "== diff through pcscd: a card whose SSSE PIN has 5 tries, declared with 3"
stop_serve
"$BIN/ssc-card" profile --show gen3 | sed '0,/max_tries = 3/s//max_tries = 5/' > "$LOGS/five-tries.toml"
start_serve --profile "$LOGS/five-tries.toml"
set +e
started=$(date +%s%N)
"$BIN/ssc-harness" diff --reader "$READER" --profile gen3 --seed 1 -o "$LOGS/diff" --json \
  > "$LOGS/diff.json" 2> "$LOGS/diff.err"
code=$?
ms=$(( ($(date +%s%N) - started) / 1000000 ))
set -e
[ "$code" = 1 ] || { cat "$LOGS/diff.json" "$LOGS/diff.err"; echo "diff: exit $code, expected 1"; exit 1; }
vector=$(python3 - "$LOGS/diff.json" "$ms" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
ms = max(int(sys.argv[2]), 1)
d = next(d for d in s["differences"] if d["group"].startswith("00 20"))
assert len(d["sequence"]) <= 3, d
print(f"diff: {s['sequences']} sequences, {s['commands']} commands in {ms} ms "
      f"({s['commands'] * 1000 // ms} commands/s through pcscd, the preflight included), "
      f"{s['withheld']} withheld: {d['title']} in {len(d['sequence'])} commands", file=sys.stderr)
print(d["vector"])
PY
)
# Nothing was spent for good: the card still has its 5 tries.
scriptor -r "$READER" "$LOGS/query.txt" > "$LOGS/query.out" 2>&1
grep -q '< 63 C5' "$LOGS/query.out" || { cat "$LOGS/query.out"; echo "diff left the counter changed"; exit 1; }
echo "diff: the card still has 5 tries"
# The vector passes on the model (the declaration) and fails on the card in the reader (its
# wrong PIN costs the card one try: the case is tagged spends-tries).
"$BIN/ssc-harness" run --no-data --profile gen3 "$vector" | tail -n 1
if "$BIN/ssc-harness" run --no-data --reader "$READER" --profile gen3 "$vector" > "$LOGS/diff-run.out"; then
  cat "$LOGS/diff-run.out"; echo "the diff's vector passed on the card"; exit 1
fi
tail -n 1 "$LOGS/diff-run.out"
stop_serve
start_serve

echo "== removal and insertion by signal"
kill -USR1 "$SERVE_PID"
wait_for 20 card_gone
kill -USR2 "$SERVE_PID"
wait_for 20 card_present
echo "card removed and inserted"

echo "== a second ssc-card serve on the held slot says the slot is in use (exit 2)"
expect_error "second serve" "the slot is in use by another card" timeout 20 "$BIN/ssc-card" serve
card_present || { echo "the first serve lost the card"; exit 1; }

if [ -n "$PCSCD_PID" ]; then
  echo "== restart pcscd: ssc-card serve reconnects and keeps the card"
  kill -TERM "$PCSCD_PID"; wait "$PCSCD_PID" || true; PCSCD_PID=
  wait_for 20 vpcd_closed
  start_pcscd
  wait_for 20 card_present
  "$BIN/ssc-harness" run --reader "$READER" --filter select.ssse vectors | tail -n 1
else
  echo "== not restarting a pcscd this script did not start"
fi

echo "e2e-pcsc: all checks passed"
