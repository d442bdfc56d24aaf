/**
 * The dfukit page: drop firmware files, choose the chip, and see what `dfukit inspect` and `doctor` say with the
 * memory map drawn to scale; convert to .dfu/.hex/.bin as downloads; compare two files; flash over WebUSB.
 * Everything runs here, on the library bundled into this file: after the page has loaded it makes no network
 * request (the Content-Security-Policy in index.html forbids it too).
 */
import { hex32 } from '../../src/core/format.ts';
import { parseNumber } from '../../src/core/parse-number.ts';
import type { OutputFormat } from '../../src/convert/output.ts';
import type { Diagnosis } from '../../src/doctor/diagnose.ts';
import type { FlashEvent, FlashPhase } from '../../src/dfu/operations.ts';
import type { WebUsbTransport } from '../../src/dfu/webusb.ts';
import type { InspectReport } from '../../src/formats/inspect-report.ts';
import type { BankMode, ChipProfile } from '../../src/layout/chip-types.ts';
import { listChips } from '../../src/layout/chips.ts';
import type { FlashPlan } from '../../src/plan/types.ts';
import type { DiffReport } from '../../src/verify/report-schema.ts';
import {
  chipFor,
  convertEntries,
  diffEntries,
  doctorEntry,
  fixEntry,
  flashImage,
  inspectEntry,
  outputName,
  planFlash,
  shownError,
  type FileEntry,
  type FlashSettings,
  type ShownError,
} from './analyze.ts';
import { download, fill, h, human, plural } from './dom.ts';
import { renderMap, type MapElement, type MapInput } from './map.ts';
import { explainFlashError, flashDevice, openAndDescribe, platformOf, problemOf, requestTransport, summarize, webUsb, type DeviceSummary, type Problem } from './usb.ts';
import { FORMAT_TITLES, renderConvertReport, renderDiff, renderFindings, renderInspect, renderPlan } from './views.ts';

interface LoadedFile extends FileEntry {
  use: boolean;
  inspect?: InspectReport;
  inspectError?: ShownError;
  diagnosis?: Diagnosis;
  doctorError?: ShownError;
}

type Tab = 'file' | 'output' | 'compare';

const state = {
  files: [] as LoadedFile[],
  selected: undefined as number | undefined,
  nextId: 1,
  chipName: '',
  bankMode: undefined as BankMode | undefined,
  chip: undefined as ChipProfile | undefined,
  chipError: undefined as string | undefined,
  tab: 'file' as Tab,
  diff: { expected: undefined as number | undefined, actual: undefined as number | undefined, whole: false, report: undefined as DiffReport | undefined, error: undefined as ShownError | undefined },
  output: { report: undefined as HTMLElement | undefined, error: undefined as ShownError | undefined },
  device: undefined as WebUsbTransport | undefined,
  deviceSummary: undefined as DeviceSummary | undefined,
  problem: undefined as Problem | undefined,
  flashing: undefined as AbortController | undefined,
  settings: { verify: true, leave: false, massErase: false } as FlashSettings,
};

const platform = platformOf(navigator.userAgent);
const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

// ---------------------------------------------------------------------------------------------- analysis

function analyze(f: LoadedFile): void {
  delete f.inspect;
  delete f.inspectError;
  delete f.diagnosis;
  delete f.doctorError;
  try {
    f.inspect = inspectEntry(f);
  } catch (e) {
    f.inspectError = shownError(e, f.name);
  }
  try {
    f.diagnosis = doctorEntry(f, state.chip);
  } catch (e) {
    f.doctorError = shownError(e, f.name);
  }
}

function setChip(name: string, bankMode?: BankMode): void {
  state.chipName = name;
  ($('chip-input') as HTMLInputElement).value = name;
  state.bankMode = bankMode;
  state.chip = undefined;
  state.chipError = undefined;
  try {
    state.chip = chipFor(name, bankMode);
  } catch (e) {
    state.chipError = shownError(e).message;
  }
  for (const f of state.files) analyze(f);
  state.diff.report = undefined;
  render();
}

async function addFiles(list: FileList | readonly File[]): Promise<void> {
  document.body.dataset.busy = '1';
  for (const file of Array.from(list)) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const f: LoadedFile = { id: state.nextId++, name: file.name, bytes, use: true };
    // `app.bin@0x08020000` as a name gives the address, as on the command line.
    const m = /@(0x[0-9a-f]+|\d+)$/i.exec(file.name);
    const at = m === null ? undefined : parseNumber(m[1]!);
    if (at !== undefined) f.address = at;
    analyze(f);
    state.files.push(f);
    state.selected = f.id;
  }
  if (state.diff.expected === undefined && state.files.length >= 2) {
    state.diff.expected = state.files[state.files.length - 2]!.id;
    state.diff.actual = state.files[state.files.length - 1]!.id;
  }
  render();
  delete document.body.dataset.busy;
}

function selectedFile(): LoadedFile | undefined {
  return state.files.find((f) => f.id === state.selected);
}

// ------------------------------------------------------------------------------------------------- views

function errorBox(e: ShownError | Problem, cls = 'error'): HTMLElement {
  if ('title' in e) {
    return h('div', { class: `problem ${cls}`, 'data-code': e.code }, h('strong', {}, e.title), e.advice.map((a) => (a.startsWith('SUBSYSTEM') ? h('pre', {}, a) : h('p', {}, a))), e.detail !== undefined && h('p', { class: 'detail' }, e.detail));
  }
  return h('div', { class: `problem ${cls}`, 'data-code': e.code }, h('p', {}, e.message));
}

function renderChip(): void {
  const c = state.chip;
  const status = $('chip-status');
  if (state.chipError !== undefined) fill(status, h('span', { class: 'bad' }, state.chipError));
  else if (c === undefined) fill(status, h('span', { class: 'muted' }, 'no chip: only chip-independent checks, no sectors on the map'));
  else {
    fill(
      status,
      h('strong', {}, c.displayName),
      ` · ${human(c.flashSize)} in ${plural(c.banks.length, 'bank')} · ${c.sectors.length} sectors · flash word ${c.programUnit} B`,
      c.warnings.map((w) => h('span', { class: 'warn' }, ` · ${w}`)),
    );
  }
  const modes = $('bank-mode') as HTMLSelectElement;
  modes.hidden = c === undefined || c.bankModes.length < 2;
  if (c !== undefined) modes.value = c.bankMode;
}

function renderFileList(): void {
  const list = $('files');
  fill(
    list,
    state.files.map((f) => {
      const r = f.diagnosis?.report;
      const errs = r?.summary.errors ?? 0;
      const warns = r?.summary.warnings ?? 0;
      return h(
        'li',
        { class: `file-card${f.id === state.selected ? ' selected' : ''}`, 'data-id': String(f.id), 'data-name': f.name },
        h('input', {
          type: 'checkbox',
          title: 'use this file to convert and flash',
          'aria-label': `use ${f.name}`,
          class: 'use',
          ...(f.use ? { checked: true } : {}),
          onchange: (e: Event) => {
            f.use = (e.target as HTMLInputElement).checked;
            render();
          },
        }),
        h(
          'button',
          {
            class: 'file-name',
            onclick: () => {
              state.selected = f.id;
              state.tab = 'file';
              render();
            },
          },
          f.name,
        ),
        h('span', { class: 'fmt' }, f.inspect !== undefined ? (FORMAT_TITLES[f.inspect.format] ?? f.inspect.format) : f.diagnosis !== undefined ? (FORMAT_TITLES[f.diagnosis.report.format] ?? '') : 'unreadable'),
        h('span', { class: 'size' }, human(f.bytes.length)),
        errs > 0 && h('span', { class: 'badge error' }, plural(errs, 'error')),
        warns > 0 && h('span', { class: 'badge warning' }, plural(warns, 'warning')),
        f.inspectError !== undefined && f.doctorError !== undefined && h('span', { class: 'badge error' }, 'unreadable'),
        h(
          'button',
          {
            class: 'remove',
            title: `remove ${f.name}`,
            'aria-label': `remove ${f.name}`,
            onclick: () => {
              state.files = state.files.filter((x) => x.id !== f.id);
              if (state.selected === f.id) state.selected = state.files[0]?.id;
              render();
            },
          },
          '×',
        ),
      );
    }),
  );
}

function mapInput(f: LoadedFile): Omit<MapInput, 'chip' | 'findings'> | undefined {
  const a = f.diagnosis?.analysis;
  if (a === undefined) return undefined;
  // The flash alt: every alt-0 target (a DfuSe file may hold several); other alts are listed.
  const flash = a.targets.filter((t) => t.alt === 0);
  const sections = f.inspect?.elf?.sections.filter((x) => x.loaded && x.size > 0) ?? [];
  const kind = a.format === 'dfuse' ? 'element' : 'run';
  const elements = flash.flatMap((t, ti) =>
    t.elements.map((e, i): MapElement => {
      const names = sections.filter((x) => x.lma !== undefined && x.lma >= e.address && x.lma < e.address + e.data.length).map((x) => x.name);
      return {
        address: e.address,
        size: e.data.length,
        label: `${flash.length > 1 ? `target ${ti} ` : ''}${kind} ${i}${names.length > 0 ? ` (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', ...' : ''})` : ''}`,
      };
    }),
  );
  const others = a.targets.filter((t) => t.alt !== 0).map((t) => ({ alt: t.alt, ...(t.name !== undefined ? { name: t.name } : {}), ranges: t.image.ranges() }));
  return { images: flash.map((t) => t.image), elements, otherTargets: others };
}

function repairActions(f: LoadedFile): HTMLElement | undefined {
  const d = f.diagnosis;
  if (d === undefined || d.report.summary.fixable === 0) return undefined;
  const formats: OutputFormat[] = ['dfu'];
  if (d.analysis.format === 'ihex') formats.push('hex');
  if (d.analysis.format === 'srec') formats.push('srec');
  if (d.analysis.format === 'bin') formats.push('bin');
  const out = h('div', { class: 'repair' });
  out.append(
    h('span', {}, `${plural(d.report.summary.fixable, 'finding')} can be repaired mechanically (data bytes unchanged): `),
    ...formats.map((fmt) =>
      h(
        'button',
        {
          class: 'small',
          'data-repair': fmt,
          onclick: () => {
            const name = outputName([f], fmt, '-fixed');
            try {
              const fixed = fixEntry(f, d, state.chip, name, fmt);
              download(name, fixed.bytes);
              const s = fixed.report.fix!.summary;
              fill(out, h('span', { class: s.errors > 0 ? 'bad' : 'good' }, `Downloaded ${name}: ${plural(fixed.report.fix!.repairs.length, 'repair')}; the repaired file has ${plural(s.errors, 'error')}, ${plural(s.warnings, 'warning')}.`));
            } catch (e) {
              fill(out, errorBox(shownError(e, f.name)));
            }
          },
        },
        `download repaired .${fmt}`,
      ),
    ),
  );
  return out;
}

function renderFileTab(root: HTMLElement): void {
  const f = selectedFile();
  if (f === undefined) {
    root.appendChild(h('p', { class: 'empty' }, 'Drop a firmware file above to see what it holds, where it lands in flash and what is wrong with it.'));
    return;
  }
  const fmt = f.inspect?.format ?? f.diagnosis?.report.format;
  const head = h('div', { class: 'file-head' }, h('h2', {}, f.name), h('span', { class: 'muted' }, `${fmt !== undefined ? (FORMAT_TITLES[fmt] ?? fmt) : 'unreadable'}, ${human(f.bytes.length)}`));
  if (fmt === 'bin' || fmt === 'dfu') {
    const input = h('input', { id: 'address', class: 'address', value: f.address !== undefined ? hex32(f.address) : '', placeholder: '0x08000000', spellcheck: 'false' }) as HTMLInputElement;
    const apply = (): void => {
      const v = input.value.trim();
      const n = v === '' ? undefined : parseNumber(v);
      if (v !== '' && (n === undefined || n > 0xffffffff)) {
        input.classList.add('invalid');
        return;
      }
      if (n === undefined) delete f.address;
      else f.address = n;
      analyze(f);
      render();
    };
    input.addEventListener('change', apply);
    head.appendChild(
      h('label', { class: 'address-field' }, 'load address ', input, f.address === undefined && h('span', { class: 'warn' }, ' not given: shown at 0x08000000, the start of STM32 flash')),
    );
  }
  root.appendChild(head);
  const grid = h('div', { class: 'file-grid' });
  const mapCol = h('div', { class: 'panel map-panel' }, h('h3', {}, 'Memory map'));
  const docCol = h('div', { class: 'panel doctor-panel' }, h('h3', {}, 'Doctor'));
  const m = mapInput(f);
  if (m !== undefined) {
    mapCol.appendChild(renderMap({ ...m, ...(state.chip !== undefined ? { chip: state.chip } : {}), findings: f.diagnosis?.report.findings ?? [] }));
  } else mapCol.appendChild(h('p', { class: 'muted' }, 'No map: the file could not be read.'));
  if (f.diagnosis !== undefined) docCol.appendChild(renderFindings(f.diagnosis.report, repairActions(f)));
  else if (f.doctorError !== undefined) docCol.appendChild(errorBox(f.doctorError));
  const insp = h('div', { class: 'panel inspect-panel' }, h('h3', {}, 'Inspect'));
  if (f.inspect !== undefined) insp.appendChild(renderInspect(f.inspect));
  else if (f.inspectError !== undefined) {
    insp.appendChild(errorBox(f.inspectError));
    insp.appendChild(h('p', { class: 'muted' }, 'The strict reader rejects the file; the doctor reads it leniently and lists why.'));
  }
  // The map and what the file holds on the left, the doctor's findings beside them.
  grid.append(h('div', { class: 'left-col' }, mapCol, insp), docCol);
  root.appendChild(grid);
}

function usedFiles(): LoadedFile[] {
  return state.files.filter((f) => f.use);
}

function renderConvertPanel(panel: HTMLElement): void {
  const files = usedFiles();
  panel.appendChild(h('h3', {}, 'Convert'));
  panel.appendChild(
    h(
      'p',
      { class: 'muted' },
      files.length === 0
        ? 'Tick the files to convert in the list above.'
        : `${files.map((f) => f.name).join(' + ')} → one file${state.chip !== undefined ? `, elements aligned to the ${state.chip.programUnit}-byte flash word of ${state.chip.displayName} and merged per erase sector` : ', aligned to 8 bytes (choose the chip for its flash word and sectors)'}. Same bytes as \`dfukit convert${state.chip !== undefined ? ` --chip ${state.chipName}` : ''}\`.`,
    ),
  );
  const buttons = h('div', { class: 'buttons' });
  for (const fmt of ['dfu', 'hex', 'srec', 'bin'] as const) {
    buttons.appendChild(
      h(
        'button',
        {
          'data-convert': fmt,
          ...(files.length === 0 ? { disabled: true } : {}),
          onclick: () => {
            const name = outputName(files, fmt);
            try {
              const outcome = convertEntries(files, state.chip, name, fmt);
              download(name, outcome.outputs[0]!.encoded.bytes);
              state.output = { report: renderConvertReport(outcome.report), error: undefined };
            } catch (e) {
              state.output = { report: undefined, error: shownError(e) };
            }
            render();
          },
        },
        `Download .${fmt}`,
      ),
    );
  }
  panel.appendChild(buttons);
  if (state.output.report !== undefined) panel.appendChild(state.output.report);
  if (state.output.error !== undefined) panel.appendChild(errorBox(state.output.error));
}

const PHASE_TITLES: Record<FlashPhase, string> = { check: 'Check', erase: 'Erase', write: 'Write', verify: 'Verify', leave: 'Leave', read: 'Read' };

function progressRows(plan: FlashPlan): HTMLElement {
  const phases: FlashPhase[] = ['erase', 'write', ...(plan.verify.length > 0 ? (['verify'] as const) : []), ...(plan.leave !== undefined ? (['leave'] as const) : [])];
  return h(
    'div',
    { id: 'progress', class: 'progress' },
    phases.map((p) =>
      h('div', { class: 'phase', 'data-phase': p, 'data-state': 'waiting' }, h('span', { class: 'phase-name' }, PHASE_TITLES[p]), h('span', { class: 'bar' }, h('span', { class: 'bar-fill' })), h('span', { class: 'phase-text' }, 'waiting')),
    ),
  );
}

function onFlashEvent(e: FlashEvent): void {
  if (e.type === 'note') return;
  const row = document.querySelector<HTMLElement>(`#progress .phase[data-phase="${e.phase}"]`);
  if (row === null) return;
  const text = row.querySelector<HTMLElement>('.phase-text')!;
  const bar = row.querySelector<HTMLElement>('.bar-fill')!;
  const unit = (n: number, total: number): string => (row.dataset.unit === 'bytes' ? `${human(n)} of ${human(total)}` : `${n} of ${plural(total, row.dataset.unit === 'sectors' ? 'sector' : 'request')}`);
  if (e.type === 'phase') {
    row.dataset.state = 'running';
    row.dataset.unit = e.unit;
    row.dataset.total = String(e.total);
    text.textContent = unit(0, e.total);
  } else if (e.type === 'progress') {
    bar.style.width = `${e.total > 0 ? (100 * e.done) / e.total : 100}%`;
    text.textContent = unit(e.done, e.total) + (e.address !== undefined ? ` · ${hex32(e.address)}` : '');
  } else if (e.type === 'phase-end') {
    row.dataset.state = 'done';
    bar.style.width = '100%';
    const total = Number(row.dataset.total ?? 0);
    text.textContent = `done: ${row.dataset.unit === 'bytes' ? human(total) : plural(total, row.dataset.unit === 'sectors' ? 'sector' : 'request')} in ${(e.deviceMs / 1000).toFixed(2)} s`;
  } else if (e.type === 'retry') {
    text.textContent = `retry ${e.attempt}: ${e.error}`;
  }
}

async function connectDevice(): Promise<void> {
  const u = webUsb(navigator, window.isSecureContext);
  if ('problem' in u) {
    state.problem = u.problem;
    render();
    return;
  }
  state.problem = undefined;
  try {
    const t = await requestTransport(u.usb, platform);
    const description = await openAndDescribe(t, platform);
    state.device = t;
    state.deviceSummary = summarize(description);
  } catch (e) {
    state.problem = problemOf(e) ?? explainFlashError(e, platform);
    render();
    return;
  }
  // No chip chosen yet: when the device's layout strings fit one profile only, that is the chip.
  const fits = state.deviceSummary.profiles;
  if (state.chip === undefined && fits.length === 1) setChip(fits[0]!);
  else render();
}

async function runFlash(): Promise<void> {
  const t = state.device;
  const files = usedFiles();
  if (t === undefined || state.chip === undefined) return;
  const result = $('flash-result');
  fill(result);
  let image;
  try {
    image = flashImage(files);
  } catch (e) {
    fill(result, errorBox(shownError(e)));
    return;
  }
  const ac = new AbortController();
  state.flashing = ac;
  renderFlashButtons();
  document.body.dataset.flashing = '1';
  const live = $('flash-live');
  try {
    const job = await flashDevice(t, { name: state.chipName, ...(state.bankMode !== undefined ? { bankMode: state.bankMode } : {}) }, image, state.settings, platform, {
      signal: ac.signal,
      onPrepared: (prepared, plan) => fill(live, prepared.notes.length > 0 && h('ul', { class: 'prepare-notes muted' }, prepared.notes.map((n) => h('li', {}, n))), renderPlan(plan), progressRows(plan)),
      onEvent: onFlashEvent,
    });
    const r = job.result;
    fill(
      result,
      h(
        'div',
        { class: 'flash-done good', 'data-bytes': String(r.bytesWritten), 'data-verified': String(r.bytesVerified) },
        h('strong', {}, r.bytesVerified > 0 ? 'Flashed and verified' : 'Flashed'),
        `: ${job.prepared.profile.displayName}, ${human(r.bytesWritten)} written in ${plural(r.blocksWritten, 'block')}, ${plural(r.sectorsErased, 'sector')} erased${r.bytesVerified > 0 ? `, ${human(r.bytesVerified)} read back and equal` : ''}; ${(r.deviceMs / 1000).toFixed(2)} s on the device, ${r.requestCount} requests.`,
        r.leave !== undefined && h('p', {}, `Left DFU mode: jumped to ${hex32(r.leave.address)} (${r.leave.outcome === 'disconnected' ? 'the device disconnected, as it does when the firmware starts' : r.leave.outcome}).`),
        r.recoveries.length > 0 && h('p', { class: 'muted' }, `Recoveries: ${r.recoveries.join('; ')}`),
      ),
    );
  } catch (e) {
    for (const row of document.querySelectorAll<HTMLElement>('#progress .phase[data-state="running"]')) row.dataset.state = 'failed';
    fill(result, errorBox(problemOf(e) ?? explainFlashError(e, platform)));
    const report = (e as { report?: DiffReport }).report;
    if (report !== undefined) result.appendChild(renderDiff(report));
  } finally {
    state.flashing = undefined;
    delete document.body.dataset.flashing;
    try {
      await t.close();
    } catch {
      // a device that left DFU mode is gone; nothing to close
    }
    renderFlashButtons();
  }
}

function renderFlashButtons(): void {
  const b = document.getElementById('flash-buttons');
  if (b === null) return;
  const files = usedFiles();
  const ds = state.deviceSummary;
  const chipOk = state.chip !== undefined && (ds === undefined || ds.profiles.length === 0 || ds.profiles.includes(state.chip.profile));
  const ready = state.device !== undefined && chipOk && files.length > 0 && state.flashing === undefined;
  fill(
    b,
    h(
      'button',
      { id: 'connect', class: 'secondary', onclick: () => void connectDevice(), ...(state.flashing !== undefined || 'problem' in webUsb(navigator, window.isSecureContext) ? { disabled: true } : {}) },
      state.device === undefined ? 'Connect a device…' : 'Connect another…',
    ),
    h('button', { id: 'flash', class: 'primary', onclick: () => void runFlash(), ...(ready ? {} : { disabled: true }) }, files.length > 0 ? `Flash ${plural(files.length, 'file')}` : 'Flash'),
    state.flashing !== undefined && h('button', { id: 'cancel', class: 'secondary', onclick: () => state.flashing?.abort(new Error('cancelled in the page')) }, 'Stop'),
  );
}

function renderFlashPanel(panel: HTMLElement): void {
  panel.appendChild(h('h3', {}, 'Flash over USB'));
  const u = webUsb(navigator, window.isSecureContext);
  if ('problem' in u) panel.appendChild(errorBox(u.problem, 'warn'));
  panel.appendChild(
    h(
      'p',
      { class: 'muted' },
      'Put the board into its ROM bootloader (BOOT0 high, reset), connect it, and flash the ticked files: only the sectors the files touch are erased, then written, read back and compared, as `dfukit flash` does.',
    ),
  );
  const ds = state.deviceSummary;
  if (ds !== undefined) {
    const chip = state.chip;
    const mismatch = chip !== undefined && ds.profiles.length > 0 && !ds.profiles.includes(chip.profile);
    panel.appendChild(
      h(
        'div',
        { class: 'device', 'data-usb-id': ds.usbId, 'data-profiles': ds.profiles.join(' ') },
        h('p', {}, h('strong', {}, ds.name), ` · ${ds.usbId}${ds.serial !== undefined ? ` · serial ${ds.serial}` : ''}`),
        h('ul', { class: 'alts' }, ds.alts.map((a) => h('li', {}, `alt ${a.alt}: `, h('code', {}, a.name)))),
        ds.profiles.length === 0
          ? h('p', { class: 'warn' }, 'Its memory layout fits no chip dfukit knows: choose the chip above.')
          : ds.profiles.length === 1
            ? h('p', {}, `Its memory layout is that of ${ds.profiles[0]}.`)
            : h(
                'p',
                { class: chip === undefined ? 'problem warn' : '', 'data-code': chip === undefined ? 'CHIP_AMBIGUOUS' : undefined },
                `Its memory layout fits ${ds.profiles.join(', ')}: the DFU interface cannot tell them apart${chip === undefined ? '. Which is it? ' : '.'}`,
                chip === undefined && ds.profiles.map((p) => h('button', { class: 'small', 'data-choose-chip': p, onclick: () => setChip(p) }, p)),
              ),
        mismatch &&
          h(
            'p',
            { class: 'problem warn', 'data-code': 'CHIP_MISMATCH' },
            `The chip chosen above is ${chip.displayName}, but the device's memory layout is that of ${ds.profiles.join(' or ')}: flashing would use the wrong sectors. `,
            ds.profiles.map((p) => h('button', { class: 'small', onclick: () => setChip(p) }, `use ${p}`)),
          ),
      ),
    );
  }
  const opt = (key: keyof FlashSettings, label: string): HTMLElement =>
    h(
      'label',
      { class: 'opt' },
      h('input', {
        type: 'checkbox',
        'data-setting': key,
        ...(state.settings[key] ? { checked: true } : {}),
        onchange: (e: Event) => {
          state.settings = { ...state.settings, [key]: (e.target as HTMLInputElement).checked };
          render();
        },
      }),
      label,
    );
  panel.appendChild(h('div', { class: 'opts' }, opt('verify', 'verify by read-back'), opt('leave', 'start the firmware when done (leave DFU mode)'), opt('massErase', 'mass erase (loses everything else in flash)')));
  const files = usedFiles();
  const live = h('div', { id: 'flash-live' });
  if (state.chip !== undefined && files.length > 0) {
    try {
      live.appendChild(renderPlan(planFlash(flashImage(files), state.chip, state.settings)));
    } catch (e) {
      live.appendChild(errorBox(shownError(e)));
    }
  } else if (state.chip === undefined) live.appendChild(h('p', { class: 'warn' }, 'Choose the chip (or connect the device: its memory layout names it) to plan the flash.'));
  panel.appendChild(live);
  panel.appendChild(h('div', { id: 'flash-buttons', class: 'buttons' }));
  panel.appendChild(h('div', { id: 'flash-result' }, state.problem !== undefined && errorBox(state.problem)));
}

function renderCompareTab(root: HTMLElement): void {
  const panel = h('div', { class: 'panel' }, h('h3', {}, 'Compare two files'));
  if (state.files.length < 2) {
    panel.appendChild(h('p', { class: 'empty' }, 'Drop two files (the file you meant to flash, and a read-back or another build) to see where and why they differ.'));
    root.appendChild(panel);
    return;
  }
  const select = (id: string, value: number | undefined, set: (v: number) => void): HTMLSelectElement => {
    const sel = h(
      'select',
      { id, onchange: (e: Event) => set(Number((e.target as HTMLSelectElement).value)) },
      state.files.map((f) => h('option', { value: String(f.id), ...(f.id === value ? { selected: true } : {}) }, f.name)),
    );
    return sel;
  };
  const run = (): void => {
    const e = state.files.find((f) => f.id === state.diff.expected);
    const a = state.files.find((f) => f.id === state.diff.actual);
    state.diff.report = undefined;
    state.diff.error = undefined;
    if (e === undefined || a === undefined) return;
    try {
      state.diff.report = diffEntries(e, a, state.chip, state.diff.whole);
    } catch (err) {
      state.diff.error = shownError(err);
    }
  };
  state.diff.expected ??= state.files[0]!.id;
  state.diff.actual ??= state.files[1]!.id;
  panel.appendChild(
    h(
      'div',
      { class: 'compare-form' },
      h('label', {}, 'expected ', select('diff-expected', state.diff.expected, (v) => ((state.diff.expected = v), run(), render()))),
      h('label', {}, 'actual ', select('diff-actual', state.diff.actual, (v) => ((state.diff.actual = v), run(), render()))),
      h(
        'label',
        { class: 'opt' },
        h('input', { type: 'checkbox', id: 'diff-whole', ...(state.diff.whole ? { checked: true } : {}), onchange: (e: Event) => ((state.diff.whole = (e.target as HTMLInputElement).checked), run(), render()) }),
        'whole (gaps of the expected file must read erased)',
      ),
    ),
  );
  if (state.diff.report === undefined && state.diff.error === undefined) run();
  if (state.diff.report !== undefined) panel.appendChild(renderDiff(state.diff.report));
  if (state.diff.error !== undefined) panel.appendChild(errorBox(state.diff.error));
  root.appendChild(panel);
}

function render(): void {
  renderChip();
  renderFileList();
  $('drop').classList.toggle('compact', state.files.length > 0);
  for (const b of document.querySelectorAll<HTMLButtonElement>('#tabs button')) b.classList.toggle('active', b.dataset.tab === state.tab);
  const root = $('view');
  root.replaceChildren();
  root.dataset.tab = state.tab;
  if (state.tab === 'file') renderFileTab(root);
  else if (state.tab === 'output') {
    const grid = h('div', { class: 'output-grid' });
    const conv = h('div', { class: 'panel convert-panel' });
    const flash = h('div', { class: 'panel flash-panel' });
    renderConvertPanel(conv);
    renderFlashPanel(flash);
    grid.append(conv, flash);
    root.appendChild(grid);
    renderFlashButtons();
  } else renderCompareTab(root);
}

// ------------------------------------------------------------------------------------------------ set-up

function init(): void {
  const chipInput = $('chip-input') as HTMLInputElement;
  fill(
    $('chip-list'),
    listChips().flatMap((c) => c.parts.map((p) => h('option', { value: p }, `${c.title}`))),
  );
  const params = new URLSearchParams(location.search);
  const initial = params.get('chip') ?? '';
  chipInput.value = initial;
  chipInput.addEventListener('change', () => setChip(chipInput.value));
  ($('bank-mode') as HTMLSelectElement).addEventListener('change', (e) => setChip(chipInput.value, (e.target as HTMLSelectElement).value as BankMode));
  const drop = $('drop');
  const picker = $('file-input') as HTMLInputElement;
  $('choose').addEventListener('click', () => picker.click());
  picker.addEventListener('change', () => {
    if (picker.files !== null) void addFiles(picker.files).then(() => (picker.value = ''));
  });
  const over = (e: DragEvent): void => {
    e.preventDefault();
    drop.classList.add('over');
  };
  drop.addEventListener('dragenter', over);
  drop.addEventListener('dragover', over);
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    if (e.dataTransfer !== null && e.dataTransfer.files.length > 0) void addFiles(e.dataTransfer.files);
  });
  // A file dropped anywhere else must not make the browser navigate away to it.
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => e.preventDefault());
  for (const b of document.querySelectorAll<HTMLButtonElement>('#tabs button')) {
    b.addEventListener('click', () => {
      state.tab = b.dataset.tab as Tab;
      render();
    });
  }
  setChip(initial);
  document.body.dataset.ready = '1';
}

init();
