// Strict typed access to fields of Intel PCS JSON collateral (TCB Info, Enclave Identity): a missing or
// mistyped field is an EvidenceError with the caller's code, never a silent default.
import { EvidenceError, type EvidenceErrorCode } from '../../errors.js';

const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;
const HEX = /^[0-9a-fA-F]*$/;

export class JsonFields {
  constructor(
    private readonly obj: Record<string, unknown>,
    private readonly code: EvidenceErrorCode,
    private readonly where: string,
  ) {}

  static of(value: unknown, code: EvidenceErrorCode, where: string): JsonFields {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new EvidenceError(code, `${where} must be a JSON object.`);
    }
    return new JsonFields(value as Record<string, unknown>, code, where);
  }

  fail(message: string): never {
    throw new EvidenceError(this.code, `${this.where}: ${message}`);
  }

  has(name: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.obj, name);
  }

  raw(name: string): unknown {
    return this.has(name) ? this.obj[name] : undefined;
  }

  string(name: string): string {
    const v = this.raw(name);
    if (typeof v !== 'string') this.fail(`"${name}" must be a string.`);
    return v;
  }

  uint(name: string, max = 0xffffffff): number {
    const v = this.raw(name);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) this.fail(`"${name}" must be an integer in 0..${max}.`);
    return v;
  }

  /** A hex string of exactly `bytes` bytes (either case), decoded. */
  hex(name: string, bytes: number): Uint8Array {
    const v = this.string(name);
    if (v.length !== bytes * 2 || !HEX.test(v)) this.fail(`"${name}" must be ${bytes} bytes of hex.`);
    return new Uint8Array(Buffer.from(v, 'hex'));
  }

  date(name: string): Date {
    const v = this.string(name);
    const ms = ISO_DATE.test(v) ? Date.parse(v) : Number.NaN;
    if (Number.isNaN(ms)) this.fail(`"${name}" must be an ISO 8601 UTC date.`);
    return new Date(ms);
  }

  /** A date as canonical RFC 3339 text (whole seconds keep Intel's "…:SSZ" form). */
  dateText(name: string): string {
    return this.date(name).toISOString().replace(/\.000Z$/, 'Z');
  }

  array(name: string, { nonEmpty = false } = {}): unknown[] {
    const v = this.raw(name);
    if (!Array.isArray(v)) this.fail(`"${name}" must be an array.`);
    if (nonEmpty && v.length === 0) this.fail(`"${name}" must not be empty.`);
    return v;
  }

  object(name: string): JsonFields {
    return JsonFields.of(this.raw(name), this.code, `${this.where}.${name}`);
  }

  /** An optional array of strings (advisoryIDs). */
  stringsOptional(name: string): string[] {
    if (!this.has(name)) return [];
    const v = this.array(name);
    if (!v.every((s) => typeof s === 'string')) this.fail(`"${name}" must hold strings.`);
    return v as string[];
  }

  /** A string from a closed set. */
  oneOf<T extends string>(name: string, allowed: readonly T[]): T {
    const v = this.string(name);
    if (!(allowed as readonly string[]).includes(v)) this.fail(`"${name}" has the unknown value "${v}".`);
    return v as T;
  }
}
