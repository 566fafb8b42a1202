import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readVector } from '../../../helpers/vectors.js';
import { EvidenceError } from '../../../../src/errors.js';
import { parseOpaqueData, parseSpdmReport, REQUEST_LENGTH } from '../../../../src/evidence/nvidia/spdm.js';
import { formatGpuVbios, OpaqueType, readOpaqueInfo } from '../../../../src/evidence/nvidia/opaque.js';
import { buildSpdmReportBody, gpuOpaqueFields } from '../../../../src/dev/nvidia.js';
import { allReports, flipBit, syncCodeOf, vector } from './fixtures.js';

const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('parseSpdmReport on every real report', () => {
  for (const [label, reportPath, , expected] of allReports()) {
    it(`${label}: matches the manifest`, () => {
      const bytes = readVector('nvidia', reportPath);
      expect(bytes.length).toBe(expected.report_length);
      const r = parseSpdmReport(bytes);
      expect(hexOf(r.nonce)).toBe(expected.request.nonce);
      expect(r.slotId).toBe(expected.request.slot_id);
      expect(r.blocks.length).toBe(expected.response.number_of_blocks);
      expect(r.blocks.reduce((n, b) => n + 7 + b.value.length, 0)).toBe(expected.response.measurement_record_length);
      expect(hexOf(r.responderNonce)).toBe(expected.response.responder_nonce);
      expect(hexOf(r.signature)).toBe(expected.response.signature_hex);
      expect(r.signedBytes.length).toBe(expected.signature_check.signed_length);
      for (const field of Object.values(expected.opaque_fields)) {
        expect(hexOf(r.opaque.get(field.type) as Uint8Array)).toBe(field.hex);
        expect(r.opaque.get(field.type)?.length).toBe(field.size);
      }
      const nonzero = r.blocks.filter((b) => b.value.some((x) => x !== 0)).map((b) => b.index - 1);
      expect(nonzero).toEqual(expected.nonzero_measurement_indices_0based);
      for (const [index, value] of Object.entries(expected.measurements_0based ?? {})) {
        expect(hexOf(r.blocks.find((b) => b.index === Number(index) + 1)?.value as Uint8Array)).toBe(value);
      }
    });
  }

  it('formats the opaque fields as the manifest shows them', () => {
    for (const [label, reportPath, , expected] of allReports()) {
      const r = parseSpdmReport(readVector('nvidia', reportPath));
      const isSwitch = label.startsWith('nvswitch');
      const info = readOpaqueInfo(r.opaque, isSwitch);
      const f = expected.opaque_fields;
      expect(info.driverVersion).toBe(f['DRIVER_VERSION']?.ascii);
      expect(info.vbiosVersion).toBe(f['VBIOS_VERSION']?.formatted ?? f['VBIOS_VERSION']?.ascii);
      expect(info.project).toBe(f['PROJECT']?.ascii);
      expect(info.chipInfo).toBe(f['CHIP_INFO']?.ascii);
      expect(info.fwid && hexOf(info.fwid)).toBe(expected.fwid_check.report_fwid ?? undefined);
      const nvdec = f['NVDEC0_STATUS']?.le_int;
      expect(info.nvdec0).toBe(nvdec === undefined ? undefined : nvdec === 0xaa ? 'enabled' : 'disabled');
      const flag = f['FEATURE_FLAG']?.le_int;
      expect(info.featureFlag).toBe(flag === undefined ? 'unreported' : ['spt', 'mpt', 'ppcie'][flag]);
    }
  });

  it('formats a GPU VBIOS version as b3.b2.b1.b0.b4', () => {
    expect(formatGpuVbios(Uint8Array.from([0x00, 0x9f, 0x00, 0x96, 0x01, 0, 0, 0]))).toBe('96.00.9f.00.01');
    expect(syncCodeOf(() => formatGpuVbios(new Uint8Array(7)))).toBe('ERR_NVIDIA_REPORT_MALFORMED');
  });
});

describe('parseSpdmReport refuses malformed reports', () => {
  const real = readVector('nvidia', 'hopper-550.90.07-e2e/attestation_report.bin');
  const opaqueLength = vector('hopper-550.90.07-e2e').report?.response.opaque_length as number;

  it('refuses every truncation and any trailing byte', () => {
    for (const cut of [0, 1, REQUEST_LENGTH - 1, REQUEST_LENGTH, REQUEST_LENGTH + 7, 1000, real.length - 97, real.length - 1]) {
      expect(syncCodeOf(() => parseSpdmReport(real.subarray(0, cut)))).toBe('ERR_NVIDIA_REPORT_MALFORMED');
    }
    expect(syncCodeOf(() => parseSpdmReport(new Uint8Array([...real, 0])))).toBe('ERR_NVIDIA_REPORT_MALFORMED');
  });

  it('refuses SPDM versions other than 1.1 in the request and the response', () => {
    for (const offset of [0, REQUEST_LENGTH]) {
      for (const version of [0x10, 0x12, 0x13]) {
        const copy = new Uint8Array(real);
        copy[offset] = version;
        expect(syncCodeOf(() => parseSpdmReport(copy))).toBe('ERR_NVIDIA_SPDM_VERSION_UNSUPPORTED');
      }
    }
  });

  it('refuses wrong message codes, unsigned requests, partial requests and bad slots', () => {
    const at = (offset: number, value: number): Uint8Array => {
      const copy = new Uint8Array(real);
      copy[offset] = value;
      return copy;
    };
    for (const bad of [at(1, 0xe1), at(2, 0x00), at(3, 0x01), at(0x24, 8), at(REQUEST_LENGTH + 1, 0x61), at(REQUEST_LENGTH + 3, 1)]) {
      expect(syncCodeOf(() => parseSpdmReport(bad))).toBe('ERR_NVIDIA_REPORT_MALFORMED');
    }
  });

  it('refuses a block count or record length that does not add up', () => {
    expect(syncCodeOf(() => parseSpdmReport(flipBit(real, REQUEST_LENGTH + 4, 0)))).toBe('ERR_NVIDIA_REPORT_MALFORMED');
    expect(syncCodeOf(() => parseSpdmReport(flipBit(real, REQUEST_LENGTH + 5, 0)))).toBe('ERR_NVIDIA_REPORT_MALFORMED');
    // block 1's MeasurementSpecification is not DMTF
    expect(syncCodeOf(() => parseSpdmReport(flipBit(real, REQUEST_LENGTH + 9, 1)))).toBe('ERR_NVIDIA_REPORT_MALFORMED');
    // block 1's index becomes 2: a duplicate
    expect(syncCodeOf(() => parseSpdmReport(flipBit(real, REQUEST_LENGTH + 8, 1)))).toBe('ERR_NVIDIA_REPORT_MALFORMED');
  });

  it('refuses an opaque length that leaves no room for the signature', () => {
    const offset = real.length - 96 - opaqueLength - 2;
    expect(syncCodeOf(() => parseSpdmReport(flipBit(real, offset, 0)))).toBe('ERR_NVIDIA_REPORT_MALFORMED');
  });

  it('keeps unknown opaque types and refuses repeated ones', () => {
    const tlv = (type: number, value: number[]): number[] => [type & 0xff, type >> 8, value.length, 0, ...value];
    const fields = parseOpaqueData(Uint8Array.from([...tlv(0x7777, [1, 2]), ...tlv(3, [0x35, 0])]));
    expect([...fields.keys()]).toEqual([0x7777, 3]);
    expect(syncCodeOf(() => parseOpaqueData(Uint8Array.from([...tlv(3, [1]), ...tlv(3, [2])])))).toBe('ERR_NVIDIA_REPORT_MALFORMED');
    expect(syncCodeOf(() => parseOpaqueData(Uint8Array.from([3, 0, 9, 0, 1])))).toBe('ERR_NVIDIA_REPORT_MALFORMED');
  });

  it('refuses a GPU report without a driver version or with a non-ASCII one', () => {
    const opaque = gpuOpaqueFields({ driverVersion: '550.90.07', vbiosVersion: '96.00.9f.00.01' });
    const without = new Map(opaque.filter(([t]) => t !== OpaqueType.DRIVER_VERSION));
    expect(syncCodeOf(() => readOpaqueInfo(without, false))).toBe('ERR_NVIDIA_REPORT_MALFORMED');
    const binary = new Map(opaque.map(([t, v]) => [t, t === OpaqueType.DRIVER_VERSION ? Uint8Array.of(0x35, 0x01, 0) : v]));
    expect(syncCodeOf(() => readOpaqueInfo(binary, false))).toBe('ERR_NVIDIA_REPORT_MALFORMED');
  });
});

describe('parseSpdmReport properties', () => {
  const reports = allReports().map(([, path]) => readVector('nvidia', path));

  function onlyTypedErrors(bytes: Uint8Array): void {
    try {
      parseSpdmReport(bytes);
    } catch (err) {
      if (!(err instanceof EvidenceError)) throw err;
      expect(err.code).toMatch(/^ERR_NVIDIA_(REPORT_MALFORMED|SPDM_VERSION_UNSUPPORTED)$/);
    }
  }

  it('random bytes only ever produce a typed error', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 5000 }), (bytes) => onlyTypedErrors(bytes)), { numRuns: 300 });
  });

  it('random bytes behind a valid request header only ever produce a typed error', () => {
    const head = reports[0]?.subarray(0, REQUEST_LENGTH + 8) as Uint8Array;
    fc.assert(fc.property(fc.uint8Array({ maxLength: 4000 }), (tail) => onlyTypedErrors(new Uint8Array([...head, ...tail]))), { numRuns: 300 });
  });

  it('byte edits and truncations of real reports parse or fail with a typed error', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: reports.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        fc.option(fc.nat()),
        (which, edits, cut) => {
          const bytes = new Uint8Array(reports[which] as Uint8Array);
          for (const [offset, value] of edits) bytes[offset % bytes.length] = value;
          onlyTypedErrors(cut === null ? bytes : bytes.subarray(0, cut % (bytes.length + 1)));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('round-trips reports built from arbitrary measurements and opaque fields', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.array(fc.uint8Array({ minLength: 48, maxLength: 48 }), { minLength: 1, maxLength: 64 }),
        fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 40 })), { selector: ([t]) => t, maxLength: 20 }),
        (nonce, measurements, opaque) => {
          const body = buildSpdmReportBody({ nonce, measurements, opaque });
          const parsed = parseSpdmReport(new Uint8Array([...body, ...new Uint8Array(96)]));
          expect(hexOf(parsed.nonce)).toBe(hexOf(nonce));
          expect(parsed.blocks.map((b) => hexOf(b.value))).toEqual(measurements.map(hexOf));
          expect([...parsed.opaque.entries()].map(([t, v]) => [t, hexOf(v)])).toEqual(opaque.map(([t, v]) => [t, hexOf(v)]));
        },
      ),
      { numRuns: 150 },
    );
  });
});
