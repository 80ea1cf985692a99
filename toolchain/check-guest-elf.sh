#!/bin/sh
# Check that a linked guest ELF is something the Glint host can load:
#   - ELF64 x86-64, type DYN (static PIE linked at 0), non-zero entry point
#   - program headers: only LOAD, DYNAMIC, NOTE, GNU_STACK (no INTERP, no TLS,
#     no RELRO/EH_FRAME/...); every LOAD page-aligned (p_vaddr and p_offset
#     multiples of 4096), never writable and executable at once; GNU_STACK not
#     executable
#   - dynamic section: no DT_NEEDED, no DT_TEXTREL
#   - relocations: R_X86_64_RELATIVE only (the host applies them itself)
#   - optional: a section named .note.glint (warning only; see --want-note)
#
#   check-guest-elf.sh [--want-note] READELF GUEST.elf
#
# READELF is GNU readelf or llvm-readelf.  On failure the ELF is renamed to
# GUEST.elf.rejected (so that no build tool takes it for up to date) and the
# script exits 1.
set -u

want_note=0
if [ "${1:-}" = "--want-note" ]; then want_note=1; shift; fi
if [ $# -ne 2 ]; then
  echo "usage: $0 [--want-note] READELF GUEST.elf" >&2
  exit 2
fi
READELF=$1
ELF=$2
errors=0
err() { echo "check-guest-elf: $ELF: $*" >&2; errors=$((errors + 1)); }

[ -f "$ELF" ] || { echo "check-guest-elf: $ELF: no such file" >&2; exit 1; }

hdr=$("$READELF" -hW "$ELF" 2>&1) || { echo "check-guest-elf: $ELF: readelf -h failed: $hdr" >&2; exit 1; }
echo "$hdr" | grep -Eq 'Class:[[:space:]]+ELF64' || err "not ELF64"
echo "$hdr" | grep -Eq 'Machine:.*X86-64' || err "not x86-64"
echo "$hdr" | grep -Eq 'Type:[[:space:]]+DYN' || err "ELF type is not DYN (static PIE expected)"
entry=$(echo "$hdr" | sed -n 's/.*Entry point address:[[:space:]]*//p')
case "$entry" in
  ""|0x0|0) err "entry point is 0 (is _start defined?)" ;;
esac

# Program headers.  Rows look like (GNU and LLVM readelf alike, with -W):
#   LOAD  0x000000 0x0000000000000000 0x0000000000000000 0x0011d8 0x0011d8 R E 0x1000
phdrs=$("$READELF" -lW "$ELF" 2>&1) || { err "readelf -l failed: $phdrs"; }
bad_ph=$(echo "$phdrs" | awk '
  BEGIN { inph = 0 }
  /^ *Type +Offset/ { inph = 1; next }
  inph && /^ *$/ { inph = 0 }
  inph && /^ *\[Requesting/ { next }
  inph && NF >= 7 {
    type = $1; off = $2; vaddr = $3
    # flags are the fields between MemSiz ($6) and Align ($NF)
    flags = ""
    for (i = 7; i < NF; i++) flags = flags $i
    if (type == "LOAD") {
      o = tolower(off); v = tolower(vaddr)
      if (o !~ /000$/) print "LOAD segment file offset " off " is not page-aligned"
      if (v !~ /000$/) print "LOAD segment address " vaddr " is not page-aligned"
      if (flags ~ /W/ && flags ~ /E/) print "LOAD segment at " vaddr " is writable and executable (" flags ")"
      nload++
    } else if (type == "GNU_STACK") {
      if (flags ~ /E/) print "executable stack requested (GNU_STACK " flags ")"
    } else if (type != "DYNAMIC" && type != "NOTE") {
      print "unexpected program header " type
    }
  }
  END { if (nload == 0) print "no LOAD segment" }')
if [ -n "$bad_ph" ]; then
  echo "$bad_ph" | while IFS= read -r l; do echo "check-guest-elf: $ELF: $l" >&2; done
  errors=$((errors + 1))
fi

# Dynamic section: nothing to load, no text relocations.
dyn=$("$READELF" -dW "$ELF" 2>&1)
if echo "$dyn" | grep -Eq '\(NEEDED\)|[[:space:]]NEEDED[[:space:]]'; then
  err "has DT_NEEDED entries (shared library dependencies):"
  echo "$dyn" | grep -E 'NEEDED' >&2
fi
echo "$dyn" | grep -Eq '\(TEXTREL\)|TEXTREL' && err "has text relocations (DT_TEXTREL)"

# Relocations: every entry must be R_X86_64_RELATIVE.
rel=$("$READELF" -rW "$ELF" 2>&1)
bad_rel=$(echo "$rel" | awk '
  /^ *[0-9a-fA-F]+ +[0-9a-fA-F]+ +R_/ { if ($3 != "R_X86_64_RELATIVE") print $3 " at 0x" $1 (NF >= 5 ? " (" $5 ")" : "") }')
if [ -n "$bad_rel" ]; then
  err "relocations other than R_X86_64_RELATIVE (the host applies only those):"
  echo "$bad_rel" | awk '{ n[$1]++ } END { for (t in n) printf "  %6d x %s\n", n[t], t }' >&2
  echo "  first ones:" >&2
  echo "$bad_rel" | head -n 10 | sed 's/^/    /' >&2
fi

if [ "$want_note" = 1 ]; then
  if ! "$READELF" -SW "$ELF" 2>/dev/null | grep -q '\.note\.glint'; then
    echo "check-guest-elf: warning: $ELF: no .note.glint section (the runtime should provide the ABI note)" >&2
  fi
fi

if [ "$errors" -ne 0 ]; then
  mv -f "$ELF" "$ELF.rejected" 2>/dev/null
  echo "check-guest-elf: $ELF: rejected ($errors problem(s)); kept as $ELF.rejected" >&2
  exit 1
fi
exit 0
