// SEV-SNP TCB_VERSION encodings and product identification (ABI spec #56860 "TCB_VERSION", VCEK spec #57230).
//
// The 8-byte TCB_VERSION layout depends on the product: Milan and Genoa (VCEK structVersion 0) put
// BOOT_LOADER, TEE, SNP, MICROCODE at bytes 0, 1, 6, 7; Turin (structVersion 1) puts FMC, BOOT_LOADER, TEE,
// SNP, MICROCODE at bytes 0, 1, 2, 3, 7. Every other byte is reserved.
import type { SnpProduct } from '../types.js';
import type { SnpTcb } from './claims.js';

export const SNP_PRODUCTS: readonly SnpProduct[] = ['Milan', 'Genoa', 'Turin'];

/** TCB component → byte index inside the little-endian TCB_VERSION, per layout. */
const MILAN_LAYOUT = { bootloader: 0, tee: 1, snp: 6, microcode: 7 } as const;
const TURIN_LAYOUT = { fmc: 0, bootloader: 1, tee: 2, snp: 3, microcode: 7 } as const;

/** The VCEK structVersion (1.3.6.1.4.1.3704.1.1) that goes with a product's TCB layout. */
export function tcbStructVersion(product: SnpProduct): 0 | 1 {
  return product === 'Turin' ? 1 : 0;
}

function layoutOf(product: SnpProduct): Readonly<Record<string, number>> {
  return product === 'Turin' ? TURIN_LAYOUT : MILAN_LAYOUT;
}

/** Decodes an 8-byte TCB_VERSION with the product's layout; `fmc` is present for Turin only. */
export function decodeTcb(raw: Uint8Array, product: SnpProduct): SnpTcb {
  if (product === 'Turin') {
    return {
      bootloader: raw[TURIN_LAYOUT.bootloader] as number,
      tee: raw[TURIN_LAYOUT.tee] as number,
      snp: raw[TURIN_LAYOUT.snp] as number,
      microcode: raw[TURIN_LAYOUT.microcode] as number,
      fmc: raw[TURIN_LAYOUT.fmc] as number,
    };
  }
  return {
    bootloader: raw[MILAN_LAYOUT.bootloader] as number,
    tee: raw[MILAN_LAYOUT.tee] as number,
    snp: raw[MILAN_LAYOUT.snp] as number,
    microcode: raw[MILAN_LAYOUT.microcode] as number,
  };
}

/**
 * Encodes TCB components into the product's 8-byte TCB_VERSION. Returns undefined when a component
 * is out of range (0..255) or when `fmc` is given for a product without it (or missing on Turin).
 */
export function encodeTcb(tcb: SnpTcb, product: SnpProduct): Uint8Array | undefined {
  const out = new Uint8Array(8);
  const layout = layoutOf(product);
  const hasFmc = tcb.fmc !== undefined;
  if (hasFmc !== (product === 'Turin')) return undefined;
  for (const [name, index] of Object.entries(layout)) {
    const value = tcb[name as keyof SnpTcb];
    if (value === undefined || !Number.isInteger(value) || value < 0 || value > 255) return undefined;
    out[index] = value;
  }
  return out;
}

function reservedIndices(layout: Readonly<Record<string, number>>): readonly number[] {
  const used = new Set(Object.values(layout));
  return [0, 1, 2, 3, 4, 5, 6, 7].filter((i) => !used.has(i));
}

const MILAN_RESERVED = reservedIndices(MILAN_LAYOUT);
const TURIN_RESERVED = reservedIndices(TURIN_LAYOUT);

/** True when a byte the product's layout leaves reserved is non-zero. */
export function tcbReservedNonZero(raw: Uint8Array, product: SnpProduct): boolean {
  for (const i of product === 'Turin' ? TURIN_RESERVED : MILAN_RESERVED) {
    if (raw[i] !== 0) return true;
  }
  return false;
}

/** TCB_VERSION as AMD tools print it: the little-endian u64 in hex (e.g. "db18000000000004"). */
export function tcbHex(raw: Uint8Array): string {
  return Buffer.from(raw).reverse().toString('hex');
}

/**
 * The product a CPUID family/model belongs to (ABI spec: CPUID_FAM_ID/CPUID_MOD_ID, report v3+).
 * Family 19h: models 00h-0Fh Milan, 10h-1Fh Genoa, A0h-AFh Siena (which uses the Genoa chain).
 * Family 1Ah: models 00h-11h Turin. Anything else (e.g. Venice) is unknown here: undefined.
 */
export function productFromCpuid(family: number, model: number): SnpProduct | undefined {
  if (family === 0x19) {
    if (model <= 0x0f) return 'Milan';
    if ((model >= 0x10 && model <= 0x1f) || (model >= 0xa0 && model <= 0xaf)) return 'Genoa';
    return undefined;
  }
  if (family === 0x1a && model <= 0x11) return 'Turin';
  return undefined;
}

/**
 * The product named by a VCEK/VLEK productName extension ("Milan-B0", "Genoa", "Turin", VLEK "Milan").
 * The stepping suffix after "-" is ignored; Siena certificates chain to Genoa's ARK.
 */
export function productFromCertName(name: string): SnpProduct | undefined {
  const base = name.split('-')[0];
  switch (base) {
    case 'Milan':
      return 'Milan';
    case 'Genoa':
    case 'Siena':
      return 'Genoa';
    case 'Turin':
      return 'Turin';
    default:
      return undefined;
  }
}
