#!/usr/bin/env bash
# Builds the two applications of the h745-ab-headers golden case from the shared fixture sources
# (test/fixtures/src: startup.c, h745.c, table.S, cortexm_sections.ld), linked for their A/B slots instead of
# the bank starts. CI does not run this: the .elf files are committed. Same toolchain and flags as
# test/fixtures/src/build.sh (Debian 12: gcc-arm-none-eabi 15:12.2.rel1-1, binutils-arm-none-eabi 2.40-2+18+b1),
# deterministic output; the script prints the sha256 of both files.
set -euo pipefail
cd "$(dirname "$0")"
FIX=../../../test/fixtures/src
OUT=..
CFLAGS=(-Os -g0 -ffreestanding -nostdlib -fno-ident -fno-tree-loop-distribute-patterns -ffunction-sections -fdata-sections)
# -n (nmagic): segments are not page-aligned, so the first PT_LOAD does not take the ELF and program headers
# into the 0x400 bytes below the CM7 vector table.
LDFLAGS=(-Wl,-n -Wl,--build-id=none -Wl,--no-warn-rwx-segments -L "$FIX")
# 2048 words = 8 KiB of table: small images, so the expected .dfu stays small.
(cd "$FIX" && arm-none-eabi-gcc -mcpu=cortex-m7 -mthumb "${CFLAGS[@]}" "${LDFLAGS[@]}" -T "$OLDPWD/cm7_slot_a.ld" \
  -o "$OLDPWD/$OUT/cm7-slot-a.elf" -DCORE_CM7 -DTABLE_WORDS=2048 startup.c h745.c table.S)
(cd "$FIX" && arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb "${CFLAGS[@]}" "${LDFLAGS[@]}" -T "$OLDPWD/cm4_slot_a.ld" \
  -o "$OLDPWD/$OUT/cm4-slot-a.elf" -DCORE_CM4 -DTABLE_WORDS=1024 startup.c h745.c table.S)
chmod 644 "$OUT"/*.elf
(cd "$OUT" && sha256sum -- *.elf)
