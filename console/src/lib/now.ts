// The browser's clock, in one place (the console shows relative times only; the server decides validity).
export function clockNow(): number {
  return Date.now();
}
