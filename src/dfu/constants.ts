/**
 * USB DFU 1.1 and ST DfuSe numbers, named as in the specifications. Shared by the host stack
 * (`protocol.ts`, `dfuse.ts`) and the ROM emulator, so both sides speak from one table.
 *
 * Sources: USB Device Firmware Upgrade Specification, Revision 1.1 (2004) — §3 (requests, Table 3.2),
 * §4.1.3 / §4.2.4 (functional descriptor), §6.1.2 (DFU_GETSTATUS, Table 6.2 bStatus, bState values),
 * Appendix A (state transitions); ST AN3156 "USB DFU protocol used in the STM32 bootloader" §3 (DfuSe
 * extensions: Get Command, Set Address Pointer, Erase, Read Unprotect; block-number addressing);
 * ST UM0391 (DfuSe file format, bcdDFU 0x011A). Platform-neutral: no node:* import.
 */

/** DFU class requests (DFU 1.1 §3, Table 3.2). bmRequestType 0x21 (OUT) or 0xA1 (IN), wIndex = interface. */
export const DFU_REQUEST = {
  DETACH: 0,
  DNLOAD: 1,
  UPLOAD: 2,
  GETSTATUS: 3,
  CLRSTATUS: 4,
  GETSTATE: 5,
  ABORT: 6,
} as const;
export type DfuRequestName = keyof typeof DFU_REQUEST;

/** Requests whose data stage is device-to-host (DFU 1.1 Table 3.2). */
export const DFU_IN_REQUESTS: ReadonlySet<number> = new Set([DFU_REQUEST.UPLOAD, DFU_REQUEST.GETSTATUS, DFU_REQUEST.GETSTATE]);

/** bState values (DFU 1.1 §6.1.2). The first two are run-time (application) states. */
export const DFU_STATE = {
  appIDLE: 0,
  appDETACH: 1,
  dfuIDLE: 2,
  dfuDNLOAD_SYNC: 3,
  dfuDNBUSY: 4,
  dfuDNLOAD_IDLE: 5,
  dfuMANIFEST_SYNC: 6,
  dfuMANIFEST: 7,
  dfuMANIFEST_WAIT_RESET: 8,
  dfuUPLOAD_IDLE: 9,
  dfuERROR: 10,
} as const;
export type DfuStateName = keyof typeof DFU_STATE;

/** bStatus values (DFU 1.1 §6.1.2, Table 6.2). */
export const DFU_STATUS = {
  OK: 0x00,
  errTARGET: 0x01,
  errFILE: 0x02,
  errWRITE: 0x03,
  errERASE: 0x04,
  errCHECK_ERASED: 0x05,
  errPROG: 0x06,
  errVERIFY: 0x07,
  errADDRESS: 0x08,
  errNOTDONE: 0x09,
  errFIRMWARE: 0x0a,
  errVENDOR: 0x0b,
  errUSBR: 0x0c,
  errPOR: 0x0d,
  errUNKNOWN: 0x0e,
  errSTALLEDPKT: 0x0f,
} as const;
export type DfuStatusName = keyof typeof DFU_STATUS;

/** The meaning of each bStatus, in the words of DFU 1.1 Table 6.2 (for messages). */
export const DFU_STATUS_TEXT: Readonly<Record<DfuStatusName, string>> = {
  OK: 'No error condition is present.',
  errTARGET: 'File is not targeted for use by this device.',
  errFILE: 'File is for this device but fails some vendor-specific verification test.',
  errWRITE: 'Device is unable to write memory.',
  errERASE: 'Memory erase function failed.',
  errCHECK_ERASED: 'Memory erase check failed.',
  errPROG: 'Program memory function failed.',
  errVERIFY: 'Programmed memory failed verification.',
  errADDRESS: 'Cannot program memory due to received address that is out of range.',
  errNOTDONE: 'Received DFU_DNLOAD with wLength = 0, but device does not think it has all of the data yet.',
  errFIRMWARE: "Device's firmware is corrupt. It cannot return to run-time (non-DFU) operations.",
  errVENDOR: 'iString indicates a vendor-specific error.',
  errUSBR: 'Device detected unexpected USB reset signaling.',
  errPOR: 'Device detected unexpected power on reset.',
  errUNKNOWN: 'Something went wrong, but the device does not know what it was.',
  errSTALLEDPKT: 'Device stalled an unexpected request.',
};

const STATE_BY_VALUE = new Map<number, DfuStateName>(Object.entries(DFU_STATE).map(([k, v]) => [v, k as DfuStateName]));
const STATUS_BY_VALUE = new Map<number, DfuStatusName>(Object.entries(DFU_STATUS).map(([k, v]) => [v, k as DfuStatusName]));
const REQUEST_BY_VALUE = new Map<number, DfuRequestName>(Object.entries(DFU_REQUEST).map(([k, v]) => [v, k as DfuRequestName]));

/** `dfuIDLE` for 2; undefined for a value the spec does not define. */
export function dfuStateName(value: number): DfuStateName | undefined {
  return STATE_BY_VALUE.get(value);
}

/** `errTARGET` for 1; undefined for a value the spec does not define. */
export function dfuStatusName(value: number): DfuStatusName | undefined {
  return STATUS_BY_VALUE.get(value);
}

/** `DNLOAD` for 1; undefined for a bRequest DFU does not define. */
export function dfuRequestName(value: number): DfuRequestName | undefined {
  return REQUEST_BY_VALUE.get(value);
}

/** Length of the DFU_GETSTATUS reply: bStatus, bwPollTimeout (24-bit LE), bState, iString (DFU 1.1 §6.1.2). */
export const DFU_GETSTATUS_LENGTH = 6;

/** DfuSe command bytes sent in DNLOAD wBlockNum 0 (AN3156 §3; UPLOAD wBlockNum 0 lists them). */
export const DFUSE_COMMAND = {
  GET_COMMANDS: 0x00,
  SET_ADDRESS_POINTER: 0x21,
  ERASE: 0x41,
  READ_UNPROTECT: 0x92,
} as const;
export type DfuseCommandName = keyof typeof DFUSE_COMMAND;

/** wBlockNum of DfuSe commands (DNLOAD) and of the command list (UPLOAD). */
export const DFUSE_COMMAND_BLOCK = 0;
/** wBlockNum 1 is reserved by DfuSe (AN3156 §3); ST's stack STALLs it. */
export const DFUSE_RESERVED_BLOCK = 1;
/** First wBlockNum that carries memory data (AN3156 §3). */
export const DFUSE_FIRST_DATA_BLOCK = 2;

/**
 * The memory address a DfuSe data block addresses: address pointer + (wBlockNum − 2) × wTransferSize
 * (AN3156 §3). `transferSize` is the functional descriptor's wTransferSize: ST's stack uses that constant,
 * not the request's wLength (dfu-protocol.md §2.3).
 */
export function dfuseBlockAddress(pointer: number, blockNum: number, transferSize: number): number {
  return pointer + (blockNum - DFUSE_FIRST_DATA_BLOCK) * transferSize;
}

/** Default DfuSe address pointer of ST ROMs before any Set Address Pointer (start of main flash). */
export const DFUSE_DEFAULT_ADDRESS = 0x08000000;

/** USB interface class/subclass/protocol of a DFU interface (DFU 1.1 §4.1.2, §4.2.3). */
export const DFU_INTERFACE_CLASS = 0xfe;
export const DFU_INTERFACE_SUBCLASS = 0x01;
export const DFU_PROTOCOL_RUNTIME = 0x01;
export const DFU_PROTOCOL_DFU_MODE = 0x02;

/** DFU functional descriptor (DFU 1.1 §4.1.3, Table 4.2): type 0x21, 9 bytes. */
export const DFU_FUNCTIONAL_DESCRIPTOR_TYPE = 0x21;
export const DFU_FUNCTIONAL_DESCRIPTOR_LENGTH = 9;
/** bmAttributes bits of the functional descriptor (DFU 1.1 Table 4.2). */
export const DFU_ATTRIBUTE = {
  canDnload: 0x01,
  canUpload: 0x02,
  manifestationTolerant: 0x04,
  willDetach: 0x08,
} as const;
/** bcdDFUVersion of ST DfuSe devices ("1.1a"); plain DFU 1.1 devices report 0x0110. */
export const DFUSE_BCD_VERSION = 0x011a;
export const DFU_BCD_VERSION_1_1 = 0x0110;

/** USB IDs of every ST ROM bootloader in DFU mode. */
export const ST_VENDOR_ID = 0x0483;
export const ST_DFU_PRODUCT_ID = 0xdf11;

/** Standard requests (USB 2.0 §9.4, Table 9-4). */
export const USB_REQUEST = {
  GET_STATUS: 0,
  CLEAR_FEATURE: 1,
  SET_FEATURE: 3,
  SET_ADDRESS: 5,
  GET_DESCRIPTOR: 6,
  SET_DESCRIPTOR: 7,
  GET_CONFIGURATION: 8,
  SET_CONFIGURATION: 9,
  GET_INTERFACE: 10,
  SET_INTERFACE: 11,
  SYNCH_FRAME: 12,
} as const;
export type UsbStandardRequestName = keyof typeof USB_REQUEST;

/** Descriptor types (USB 2.0 Table 9-5, plus the DFU functional descriptor). */
export const USB_DESCRIPTOR_TYPE = {
  DEVICE: 1,
  CONFIGURATION: 2,
  STRING: 3,
  INTERFACE: 4,
  ENDPOINT: 5,
  DEVICE_QUALIFIER: 6,
  DFU_FUNCTIONAL: DFU_FUNCTIONAL_DESCRIPTOR_TYPE,
} as const;

/** LANGID of US English, the one language ST ROMs list in string descriptor 0. */
export const USB_LANGID_EN_US = 0x0409;
