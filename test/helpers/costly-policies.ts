// Policies that are cheap to write and expensive to evaluate: what the cost estimate refuses when saved
// and the sandbox stops when they run anyway (a row written before the limit, a raised limit).

/** cel.bind(v0, init, cel.bind(v1, v0 + v0 (+ ...), ... size(vN) > 0)): each level multiplies the size by `fan`. */
export function doublingChain(levels: number, fan: number, init = '[1, 1]'): string {
  let expr = `size(v${levels - 1}) > 0`;
  for (let i = levels - 1; i >= 1; i--) expr = `cel.bind(v${i}, ${Array(fan).fill(`v${i - 1}`).join(' + ')}, ${expr})`;
  return `cel.bind(v0, ${init}, ${expr})`;
}

/** Three comprehensions nested over one reference list: items³ steps, no memory to speak of. */
export const NESTED_SCAN = 'refs.big.all(a, refs.big.all(b, refs.big.all(c, a != b || b != c || c != "")))';

export const BIG_REFS = { big: Array.from({ length: 4096 }, (_, i) => `image-${i}`) };
