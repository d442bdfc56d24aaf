#!/usr/bin/python3
"""
Independent check of test/doctor/corpus-findings.json: re-derives every recorded finding from the corpus files
without dfukit code. Data come from other readers (python3-intelhex for HEX, binutils' objcopy for ELF, a DfuSe
walk written here from UM0391), flash geometry from the reference manuals (typed in here, not read from
schemas/chips), program units from image-formats.md section 2 / AN2606 Table 7.

For each file it computes the findings it can derive and compares them with the recorded ones (code, start, end);
codes it cannot derive are listed as "not re-derived" with the reason. It also checks the vector table of every
STM32 image start (stack pointer inside a RAM region, Thumb reset handler inside the data), which is how "no
LAYOUT_SP_OUTSIDE_RAM / LAYOUT_RESET_* findings" is confirmed.

Usage: /usr/bin/python3 test/doctor/corpus-verify.py [CORPUS_DIR] [--markdown]   (exit 1 on any disagreement)
--markdown prints the per-finding rows of corpus-findings.md (each with the fact that confirms it).
"""
import json, os, struct, subprocess, sys, tempfile
from intelhex import IntelHex

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ARGS = [a for a in sys.argv[1:] if not a.startswith('--')]
MARKDOWN = '--markdown' in sys.argv
CORPUS = ARGS[0] if ARGS else os.path.join(ROOT, '..', 'shared', 'corpus')
K = 1024

def runs(*spec):
    out = []
    for start, count, size in spec:
        for i in range(count):
            out.append((start + i * size, start + (i + 1) * size))
    return out

# (program unit, ROM write alignment, sectors as [(start, end)], banks as [(start, end)], RAM [(start, end)], bank-2 quirk range)
H74_RAM = [(0x00000000, 0x10000), (0x20000000, 0x20020000), (0x24000000, 0x24080000), (0x30000000, 0x30048000), (0x38000000, 0x38010000), (0x38800000, 0x38801000)]
GEOMETRY = {
    # RM0433/RM0399: 2 banks x 8 sectors x 128 KiB, bank 2 at 0x08100000; 256-bit flash word.
    'H74': dict(unit=32, wa=8, sectors=runs((0x08000000, 8, 128 * K), (0x08100000, 8, 128 * K)), banks=[(0x08000000, 0x08100000), (0x08100000, 0x08200000)], ram=H74_RAM, quirk=(0x08100000, 0x08200000)),
    # RM0433 H750xB: one 128 KiB sector.
    'H750': dict(unit=32, wa=8, sectors=runs((0x08000000, 1, 128 * K)), banks=[(0x08000000, 0x08020000)], ram=H74_RAM, quirk=None),
    # RM0455 H7A3/B3 xI: 2 banks x 128 sectors x 8 KiB, 128-bit flash word.
    'H7A3': dict(unit=16, wa=8, sectors=runs((0x08000000, 128, 8 * K), (0x08100000, 128, 8 * K)), banks=[(0x08000000, 0x08100000), (0x08100000, 0x08200000)],
                 ram=[(0x00000000, 0x10000), (0x20000000, 0x20020000), (0x24000000, 0x24100000), (0x30000000, 0x30020000), (0x38000000, 0x38008000)], quirk=None),
    # RM0410 F76x 2 MiB single bank (factory nDBANK=1): 4x32K, 1x128K, 7x256K.
    'F76': dict(unit=8, wa=8, sectors=runs((0x08000000, 4, 32 * K), (0x08020000, 1, 128 * K), (0x08040000, 7, 256 * K)), banks=[(0x08000000, 0x08200000)],
                ram=[(0x00000000, 0x4000), (0x20000000, 0x20080000)], quirk=None),
    # RM0385 F74x/F75x 1 MiB: 4x32K, 1x128K, 3x256K.
    'F74': dict(unit=8, wa=8, sectors=runs((0x08000000, 4, 32 * K), (0x08020000, 1, 128 * K), (0x08040000, 3, 256 * K)), banks=[(0x08000000, 0x08100000)],
                ram=[(0x00000000, 0x4000), (0x20000000, 0x20050000)], quirk=None),
    # RM0431 F72x/F73x 512 KiB: 4x16K, 1x64K, 3x128K.
    'F72': dict(unit=8, wa=8, sectors=runs((0x08000000, 4, 16 * K), (0x08010000, 1, 64 * K), (0x08020000, 3, 128 * K)), banks=[(0x08000000, 0x08080000)],
                ram=[(0x00000000, 0x4000), (0x20000000, 0x20040000)], quirk=None),
    # RM0090 F42x/F43x 2 MiB: 2 banks of 4x16K, 1x64K, 7x128K.
    'F42': dict(unit=4, wa=4, sectors=runs((0x08000000, 4, 16 * K), (0x08010000, 1, 64 * K), (0x08020000, 7, 128 * K), (0x08100000, 4, 16 * K), (0x08110000, 1, 64 * K), (0x08120000, 7, 128 * K)),
                banks=[(0x08000000, 0x08100000), (0x08100000, 0x08200000)], ram=[(0x10000000, 0x10010000), (0x20000000, 0x20030000)], quirk=None),
    # RM0090 F40x 1 MiB: 4x16K, 1x64K, 7x128K.
    'F40': dict(unit=4, wa=4, sectors=runs((0x08000000, 4, 16 * K), (0x08010000, 1, 64 * K), (0x08020000, 7, 128 * K)), banks=[(0x08000000, 0x08100000)],
                ram=[(0x10000000, 0x10010000), (0x20000000, 0x20020000)], quirk=None),
    # RM0440 G47x 512 KiB, factory DBANK=1: 2 banks of 128 x 2 KiB pages, bank 2 at 0x08040000.
    'G47': dict(unit=8, wa=8, sectors=runs((0x08000000, 128, 2 * K), (0x08040000, 128, 2 * K)), banks=[(0x08000000, 0x08040000), (0x08040000, 0x08080000)],
                ram=[(0x10000000, 0x10008000), (0x20000000, 0x20020000)], quirk=None),
}

def family(chip):
    if chip is None: return None
    c = chip.upper()
    for prefix, fam in [('STM32H750', 'H750'), ('STM32H7A3', 'H7A3'), ('STM32H7B3', 'H7A3'), ('STM32H74', 'H74'), ('STM32H75', 'H74'),
                        ('STM32F76', 'F76'), ('STM32F77', 'F76'), ('STM32F74', 'F74'), ('STM32F75', 'F74'), ('STM32F72', 'F72'), ('STM32F73', 'F72'),
                        ('STM32F42', 'F42'), ('STM32F43', 'F42'), ('STM32F40', 'F40'), ('STM32F41', 'F40'), ('STM32G47', 'G47'), ('STM32G48', 'G47')]:
        if c.startswith(prefix): return fam
    raise SystemExit(f'no geometry typed in for {chip}')

# ------------------------------------------------------------------ data, by other readers

def dfuse(path):
    b = open(path, 'rb').read()
    n = len(b)
    bl = b[-5]
    body = n - bl
    pid, vid = struct.unpack_from('<HH', b, n - 14)
    ntargets = b[10]
    p = 11
    targets = []
    for t in range(ntargets):
        assert b[p:p + 6] == b'Target'
        alt = b[p + 6]
        named = struct.unpack_from('<I', b, p + 7)[0]
        name = b[p + 11:p + 266]
        nul = name.find(b'\0') if named != 0 else 0
        junk = [i for i in range(max(nul, 0), 255) if name[i]] if nul >= 0 else []
        garbage = (p + 11 + junk[0]) if junk else None
        tsize, nel = struct.unpack_from('<II', b, p + 266)
        q = p + 274
        els = []
        for e in range(nel):
            addr, size = struct.unpack_from('<II', b, q)
            els.append((addr, b[q + 8:q + 8 + size]))
            q += 8 + size
        targets.append(dict(alt=alt, elements=els, garbage=garbage))
        p = q
    return dict(targets=targets, vid=vid, pid=pid, bLength=bl, trailing=body - p)

def hex_runs(ih):
    return [(s, bytes(ih.tobinarray(start=s, end=e - 1))) for s, e in ih.segments()]

def elf_runs(path):
    with tempfile.NamedTemporaryFile(suffix='.hex') as f:
        subprocess.run(['arm-none-eabi-objcopy', '-O', 'ihex', path, f.name], check=True, capture_output=True)
        return hex_runs(IntelHex(f.name))

def elf_empty_loads(path):
    out = subprocess.run(['arm-none-eabi-readelf', '-lW', path], check=True, capture_output=True, text=True).stdout
    res = []
    for line in out.splitlines():
        w = line.split()
        if w and w[0] == 'LOAD' and int(w[4], 16) == 0 and int(w[5], 16) != 0:
            res.append(int(w[3], 16))
    return res

def elf_padding(path):
    """Bytes of PT_LOAD file images that no SHF_ALLOC section with contents covers (readelf -lSW)."""
    segs = subprocess.run(['arm-none-eabi-readelf', '-lW', path], capture_output=True, text=True).stdout
    secs = subprocess.run(['arm-none-eabi-readelf', '-SW', path], capture_output=True, text=True).stdout
    loads = [(int(w[1], 16), int(w[4], 16)) for w in (l.split() for l in segs.splitlines()) if w and w[0] == 'LOAD' and int(w[4], 16) > 0]
    sections = []
    for l in secs.splitlines():
        if ']' not in l: continue
        w = l[l.index(']') + 1:].split()  # Name Type Addr Off Size ES [Flg] Lk Inf Al
        flags = w[6] if len(w) == 10 else ''
        if w[1] == 'NOBITS' or 'A' not in flags: continue
        sections.append((int(w[3], 16), int(w[4], 16)))
    total = 0
    for off, size in loads:
        covered = sorted((max(o, off), min(o + n, off + size)) for o, n in sections if o < off + size and o + n > off and n > 0)
        at, gap = off, 0
        for a, b in covered:
            if a > at: gap += a - at
            at = max(at, b)
        gap += max(0, off + size - at)
        total += gap
    return total

def merge_runs(elements):
    """Contiguous runs of a list of (addr, bytes)."""
    out = []
    for a, d in sorted(elements):
        if not d: continue
        if out and out[-1][0] + len(out[-1][1]) == a:
            out[-1] = (out[-1][0], out[-1][1] + d)
        else:
            out.append((a, d))
    return out

# ------------------------------------------------------------------ derivations

def derive(entry, kind, path):
    chip, fam = entry['chip'], family(entry['chip'])
    g = GEOMETRY.get(fam) if fam else None
    found = []  # (code, start, end)
    notes = []
    if kind == 'dfuse':
        d = dfuse(path)
        elements = [e for t in d['targets'] for e in t['elements']]
        units = elements  # DfuSe: elements as stored
        starts = sorted({min(a for a, x in t['elements'] if x) for t in d['targets'] if t['alt'] == 0 and any(x for _, x in t['elements'])})
        for t in d['targets']:
            if t['garbage'] is not None: found.append(('DFUSE_TARGET_NAME_GARBAGE', None, None, f'non-zero bytes after the NUL of szTargetName, first at file offset 0x{t["garbage"]:X}'))
        if g is not None and not ((d['vid'] in (0x0483, 0xFFFF)) and (d['pid'] in (0xDF11, 0xFFFF))): found.append(('DFUSE_SUFFIX_IDS', None, None, f'suffix idVendor:idProduct = {d["vid"]:04x}:{d["pid"]:04x}, neither 0483:df11 nor ffff'))
    elif kind == 'hex':
        units = hex_runs(IntelHex(path))
    elif kind == 'elf':
        units = elf_runs(path)
        hdr = subprocess.run(['arm-none-eabi-readelf', '-hW', path], capture_output=True, text=True).stdout
        if 'Machine:                           None' in hdr: found.append(('ELF_MACHINE_NONE', None, None, 'readelf -h: Machine: None'))
        pad = elf_padding(path)
        if pad: found.append(('ELF_SEGMENT_PADDING', None, None, f'readelf -lSW: {pad} PT_LOAD file bytes covered by no section'))
        if g is not None or True:
            empties = [a for a in elf_empty_loads(path) if 0x08000000 <= a < 0x10000000 and (g is None or any(s <= a < e for s, e in g['banks']))]
            if empties: found.append(('ELF_EMPTY_SEGMENT', empties[0], None, 'readelf -lW: LOAD with FileSiz 0 at PhysAddr ' + ', '.join(f'0x{a:08X}' for a in empties)))
    elif kind == 'bin':
        units = [(int(entry['address'], 16), open(path, 'rb').read())]
    else:
        b = open(path, 'rb').read()
        units = [(0x08000000, b[:len(b) - b[-5]])]
        if b[-5] > 16: found.append(('DFU_SUFFIX_EXTRA', None, None, f'suffix bLength = {b[-5]} (> 16)'))
    data = merge_runs(units)
    if kind != 'dfuse': starts = [data[0][0]] if data else []
    if g is None:
        if chip is None: found.append(('DOCTOR_NO_CHIP', None, None, 'no profile covers the part named in MANIFEST.md'))
        if kind == 'dfu': found.append(('DOCTOR_ADDRESS_ASSUMED', 0x08000000, None, 'plain DFU payload: no load address in the file'))
        for a0 in starts:
            d0 = next((d[a0 - a:] for a, d in data if a <= a0 < a + len(d)), b'')
            if 0x08000000 <= a0 < 0x10000000 and len(d0) >= 8:
                sp, reset = struct.unpack_from('<II', d0, 0)
                sp_ok = 0x10000000 < sp <= 0x40000000
                code_ok = reset & 1 and any(a <= (reset & ~1) < a + len(d) for a, d in data)
                if not sp_ok and not code_ok:
                    found.append(('LAYOUT_NO_VECTOR_TABLE', a0, None, f'first words {d0[:8].hex(" ")}: 0x{sp:08X} is no stack address, 0x{reset:08X} points to no code in the file'))
        return found, notes, data
    unit, wa = g['unit'], g['wa']
    in_flash = lambda a: any(s <= a < e for s, e in g['banks'])
    ordered = sorted([(a, d) for a, d in units if d and in_flash(a)])
    for a, d in units:
        if not d or not in_flash(a): continue
        end = a + len(d)
        if a % unit:
            prev = [(b2, d2) for b2, d2 in ordered if b2 < a]
            gap = f'; previous data ends at 0x{prev[-1][0] + len(prev[-1][1]):08X}' if prev else ''
            found.append(('LAYOUT_ELEMENT_START_UNALIGNED', a, end, f'starts at 0x{a:08X}, 0x{a:08X} mod {unit} = {a % unit}{gap}'))
        if end % unit:
            shared_next = any(b2 != a and a <= b2 < end - end % unit + unit and b2 + len(d2) > end - end % unit for b2, d2 in ordered)
            if not shared_next: found.append(('LAYOUT_ELEMENT_PARTIAL_WORD', max(end - end % unit, a), end, f'0x{a:08X} + {len(d)} = 0x{end:08X}, mod {unit} = {end % unit}: partial flash word'))
        banks = {i for i, (s, e) in enumerate(g['banks']) if s <= a < e or s <= end - 1 < e}
        if len(banks) > 1: found.append(('LAYOUT_BANK_CROSSING', a, end, f'0x{a:08X}..0x{end:08X} contains the bank boundary 0x{g["banks"][1][0]:08X}'))
    for s, e in g['sectors']:
        inside = [(a, d) for a, d in units if d and a < e and a + len(d) > s]
        if len(inside) >= 2: found.append(('LAYOUT_SECTOR_SHARED', max(s, inside[0][0]), min(e, max(a + len(d) for a, d in inside)), f'{len(inside)} runs/elements (at ' + ', '.join(f'0x{a:08X}' for a, _ in inside) + f') in the sector 0x{s:08X}..0x{e:08X}'))
        covered = sorted((max(s, a), min(e, a + len(d))) for a, d in data if a < e and a + len(d) > s)
        if not covered: continue
        gaps, at = [], s
        for cs, ce in covered:
            if cs > at: gaps.append((at, cs))
            at = max(at, ce)
        if at < e: gaps.append((at, e))
        if gaps: found.append(('LAYOUT_SECTOR_PARTLY_WRITTEN', gaps[0][0], gaps[-1][1], f'sector 0x{s:08X}..0x{e:08X} ({(e - s) // K} KiB): {sum(y - x for x, y in gaps)} bytes not in the file'))
    if g['quirk']:
        qs, qe = g['quirk']
        hit = [(max(a, qs), min(a + len(d), qe)) for a, d in data if a < qe and a + len(d) > qs]
        if hit: found.append(('LAYOUT_ROM_QUIRK', hit[0][0], hit[-1][1], f'{sum(y - x for x, y in hit)} data bytes at or above 0x{qs:08X} (bank 2; AN2606 V9.1 bank-2 erase limitation)'))
    # Vector table at the start of the data: confirms the absence of LAYOUT_SP_OUTSIDE_RAM / LAYOUT_RESET_*.
    for a0 in starts:
        d0 = next((d[a0 - a:] for a, d in data if a <= a0 < a + len(d)), b'')
        if not (in_flash(a0) and len(d0) >= 8): continue
        sp, reset = struct.unpack_from('<II', d0, 0)
        sp_ok = any(s < sp <= e for s, e in g['ram'])
        r = reset & ~1
        reset_in = any(a <= r < a + len(d) for a, d in data)
        notes.append(f'vector table at 0x{a0:08X}: SP 0x{sp:08X} {"in RAM" if sp_ok else "NOT IN RAM"}, reset 0x{reset:08X} {"Thumb" if reset & 1 else "NOT THUMB"}, {"inside the data" if reset_in else "OUTSIDE THE DATA"}')
        if not (sp_ok and reset & 1 and reset_in): found.append(('VECTOR_TABLE_BAD', a0, None, 'vector table check failed'))
    return found, notes, data

# Codes this script does not re-derive, and why they are right (checked by other means, see corpus-findings.md).
NOT_DERIVED = {}

def main():
    recorded = json.load(open(os.path.join(ROOT, 'test', 'doctor', 'corpus-findings.json')))
    manifest = open(os.path.join(CORPUS, 'MANIFEST.md')).read()
    kinds = {}
    cur = None
    for line in manifest.splitlines():
        if line.startswith('#### `'): cur = line[6:line.index('`', 6)]
        if line.startswith('- kind: **') and cur: kinds[cur] = line[10:line.index('**', 10)]
    bad = 0
    rows = []
    for entry in recorded:
        path = os.path.join(CORPUS, entry['file'])
        kind = kinds.get(entry['file'])
        derived, notes, _ = derive(entry, kind, path)
        rec = [(f['code'], int(f['start'], 16) if 'start' in f else None, int(f['end'], 16) if 'end' in f else None, f['severity']) for f in entry['findings']]
        match = lambda code, s, e, rc, rs, re_: rc == code and (s is None or rs == s) and (e is None or re_ == e)
        unmatched = []
        for code, s, e, _ in derived:
            if not any(match(code, s, e, rc, rs, re_) for rc, rs, re_, _ in rec):
                unmatched.append(f'derived {code} {s and hex(s)} {e and hex(e)} not recorded')
        first = True
        for rc, rs, re_, sev in rec:
            facts = [fact for code, s, e, fact in derived if match(code, s, e, rc, rs, re_)]
            if not facts:
                unmatched.append(f'recorded {rc} {rs and hex(rs)} {re_ and hex(re_)} not derived')
            rng = '' if rs is None else (f'0x{rs:08X}' if re_ is None else f'0x{rs:08X}..0x{re_:08X}')
            name = f'`{entry["file"]}`' if first else '〃'
            chip = (entry['chip'] or 'no chip') if first else ''
            rows.append(f'| {name} | {chip} | {sev} | {rc} | {rng} | {facts[0] if facts else "NOT CONFIRMED"} |')
            first = False
        if not rec:
            vt = notes[0] if notes else ''
            rows.append(f'| `{entry["file"]}` | {entry["chip"] or "no chip"} | - | (none) | | {vt} |')
        elif notes:
            rows.append(f'| 〃 | | - | (vector table) | | {"; ".join(notes)} |')
        status = 'OK ' if not unmatched else 'BAD'
        if unmatched: bad += 1
        codes = sorted({c for c, _, _, _ in rec})
        if not MARKDOWN:
            print(f'{status} {entry["file"]} [{entry["chip"] or "no chip"}] {", ".join(codes) or "(no findings)"}')
            for n in notes: print(f'      {n}')
        for u in unmatched: print(f'      !! {entry["file"]}: {u}', file=sys.stderr if MARKDOWN else sys.stdout)
    if MARKDOWN:
        print('| file | chip | severity | code | addresses | confirmed by (independent re-derivation) |')
        print('|---|---|---|---|---|---|')
        for r in rows: print(r)
    print(f'{len(recorded)} files, {bad} disagreements', file=sys.stderr if MARKDOWN else sys.stdout)
    sys.exit(1 if bad else 0)

main()
