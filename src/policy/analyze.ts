// Static analysis of a type-checked rule (docs/design.md "Policies"): which claim and reference paths it reads
// (for the explanation of every decision), and the checks CEL's type checker cannot make — a word no
// claim ever holds (`cpu.tcbStatus == "UptoDate"`), a reference key that does not exist, helper arguments,
// regular expressions (banned: they can take exponential time), and the rule's worst-case cost (cost.ts).
import { claimTypeAt } from './claims-schema.js';
import { parseVersion, SNP_TCB_COMPONENTS } from './cel-env.js';
import { binaryEstimate, callEstimate, claimTypeSize, literalSize, refValueSize, sumEstimates, type Estimate } from './cost.js';
import type { RefValue } from './document.js';
import { renderPath, resolveRefs, type Path, type PathRoot, type PathSegment, type ReadPath } from './paths.js';

export interface AnalysisProblem {
  readonly message: string;
  /** Offset into the expression. */
  readonly start: number;
}

export interface RuleAnalysis {
  readonly reads: readonly ReadPath[];
  readonly problems: readonly AnalysisProblem[];
  /** Worst-case evaluation steps of the rule (see cost.ts). */
  readonly cost: number;
}

/** The parts of a cel-js AST node this module reads. */
interface Node {
  readonly op: string;
  readonly args: unknown;
  readonly start: number;
}

/** What a name in scope stands for: a claim or reference path when known, and its worst-case size. */
interface Binding {
  readonly path: Path | null;
  readonly size: number;
}

type Scope = ReadonlyMap<string, Binding>;

const ROOTS: readonly string[] = ['cpu', 'gpus', 'gpuCount', 'refs'];
const COMPREHENSIONS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);
const EACH: PathSegment = { kind: 'each' };

export function analyzeRule(ast: unknown, refs: Readonly<Record<string, RefValue>>): RuleAnalysis {
  const analyzer = new RuleAnalyzer(refs);
  const { cost } = analyzer.visit(ast as Node, new Map());
  return { reads: [...analyzer.reads.values()], problems: analyzer.problems, cost };
}

class RuleAnalyzer {
  readonly reads = new Map<string, ReadPath>();
  readonly problems: AnalysisProblem[] = [];

  constructor(private readonly refs: Readonly<Record<string, RefValue>>) {}

  /** Records what `node` reads and returns its worst-case cost and size. */
  visit(node: Node, scope: Scope, inHas = false): Estimate {
    const path = this.pathOf(node, scope);
    if (path !== undefined) {
      this.record(path, node, inHas);
      return { cost: 1, size: this.sizeOfPath(path) };
    }
    switch (node.op) {
      case 'value':
        return { cost: 1, size: literalSize(node.args) };
      case 'id':
        return { cost: 1, size: scope.get(node.args as string)?.size ?? 1 };
      case 'rcall':
        return this.visitMethodCall(node, scope);
      case 'call':
        return this.visitCall(node, scope);
      case 'list':
      case 'map':
        return sumEstimates(childrenOf(node).map((child) => this.visit(child, scope)));
      case '?:': {
        const [test, yes, no] = (node.args as Node[]).map((child) => this.visit(child, scope)) as [Estimate, Estimate, Estimate];
        return { cost: 1 + test.cost + yes.cost + no.cost, size: Math.max(yes.size, no.size) };
      }
      case '.':
      case '.?': {
        const base = this.visit((node.args as [Node])[0], scope);
        return { cost: base.cost + 1, size: base.size };
      }
      case '==':
      case '!=':
        this.checkWordComparison(node, scope);
        break;
      case 'in':
        this.checkWordMembership(node, scope);
        break;
    }
    const children = childrenOf(node).map((child) => this.visit(child, scope));
    if (children.length === 2) return binaryEstimate(node.op, children[0]!, children[1]!);
    return { cost: 1 + children.reduce((sum, c) => sum + c.cost, 0), size: 1 };
  }

  private visitMethodCall(node: Node, scope: Scope): Estimate {
    const [name, receiver, args] = node.args as [string, Node, Node[]];
    if (name === 'matches') this.problem('regular expressions (matches) are not allowed in policies', node);
    const iterVar = args[0];
    if (COMPREHENSIONS.has(name) && iterVar?.op === 'id') return this.visitComprehension(name, receiver, args, scope);
    const bindVar = args[0];
    if (name === 'bind' && isCelNamespace(receiver, scope) && bindVar?.op === 'id' && args.length === 3) {
      const initPath = this.pathOf(args[1]!, scope);
      if (initPath !== undefined) this.checkRefPath(initPath, args[1]!);
      const init = initPath !== undefined ? { cost: 1, size: this.sizeOfPath(initPath) } : this.visit(args[1]!, scope);
      const body = this.visit(args[2]!, new Map(scope).set(bindVar.args as string, { path: initPath ?? null, size: init.size }));
      return { cost: init.cost + body.cost, size: body.size };
    }
    return callEstimate(name, [receiver, ...args].map((arg) => this.visit(arg, scope)));
  }

  /** `range.all(x, body)` and friends: the body's cost once per item the range can hold. */
  private visitComprehension(name: string, receiver: Node, args: Node[], scope: Scope): Estimate {
    const rangePath = this.pathOf(receiver, scope);
    if (rangePath !== undefined) this.checkRefPath(rangePath, receiver);
    const range = rangePath !== undefined ? { cost: 1, size: this.sizeOfPath(rangePath) } : this.visit(receiver, scope);
    const items = this.bound(receiver, scope, range.size);
    const item: Binding = rangePath ? { path: extend(rangePath, EACH), size: this.sizeOfPath(extend(rangePath, EACH)) } : { path: null, size: range.size };
    const inner = new Map(scope).set((args[0] as Node).args as string, item);
    const body = args.slice(1).map((arg) => this.visit(arg, inner));
    const bodyCost = body.reduce((sum, b) => sum + b.cost, 0);
    const cost = range.cost + items * (1 + bodyCost);
    if (name === 'map') return { cost, size: 1 + items * (body[body.length - 1]?.size ?? 1) };
    if (name === 'filter') return { cost, size: range.size };
    return { cost, size: 1 };
  }

  private visitCall(node: Node, scope: Scope): Estimate {
    const [name, args] = node.args as [string, Node[]];
    if (name === 'has' && args.length === 1) return { cost: this.visit(args[0]!, scope, true).cost, size: 1 };
    if (name === 'matches') this.problem('regular expressions (matches) are not allowed in policies', node);
    if (name === 'tcbAtLeast' && args[1] !== undefined) this.checkTcbMinimum(args[1], scope);
    if (name === 'versionAtLeast') for (const arg of args) this.checkVersionLiteral(arg, scope);
    return callEstimate(name, args.map((arg) => this.visit(arg, scope)));
  }

  /** The worst-case size of the value at a claim or reference path. */
  private sizeOfPath(path: Path): number {
    if (path.segments.some((s) => s.kind === 'size')) return 1;
    if (path.root === 'refs') {
      const resolved = resolveRefs(this.refs, path.segments);
      return typeof resolved === 'string' ? 1 : Math.max(1, ...resolved.map(refValueSize));
    }
    return claimTypeSize(claimTypeAt(claimSegments(path) ?? []));
  }

  /** The path a node denotes (`cpu.reportedTcb.snp`, `g.arch` inside `gpus.all(g, ...)`), if it is one. */
  pathOf(node: Node, scope: Scope): Path | undefined {
    switch (node.op) {
      case 'id': {
        const name = node.args as string;
        if (scope.has(name)) return scope.get(name)?.path ?? undefined;
        return ROOTS.includes(name) ? { root: name as PathRoot, segments: [] } : undefined;
      }
      case '.': {
        const [base, field] = node.args as [Node, string];
        const path = this.pathOf(base, scope);
        return path && extend(path, { kind: 'field', name: field });
      }
      case '[]': {
        const [base, index] = node.args as [Node, Node];
        const path = this.pathOf(base, scope);
        if (path === undefined) return undefined;
        const key = index.op === 'value' ? index.args : undefined;
        if (typeof key === 'string' || typeof key === 'bigint') {
          return extend(path, { kind: 'index', key: typeof key === 'bigint' ? Number(key) : key });
        }
        const indexPath = this.pathOf(index, scope);
        if (indexPath === undefined || indexPath.segments.some((s) => s.kind === 'each' || s.kind === 'lookup')) {
          return undefined;
        }
        return extend(path, { kind: 'lookup', index: { ...indexPath, text: renderPath(indexPath) } });
      }
      case 'rcall': {
        const [name, receiver, args] = node.args as [string, Node, Node[]];
        const path = name === 'size' && args.length === 0 ? this.pathOf(receiver, scope) : undefined;
        return path && extend(path, { kind: 'size' });
      }
      case 'call': {
        const [name, args] = node.args as [string, Node[]];
        const path = name === 'size' && args.length === 1 ? this.pathOf(args[0]!, scope) : undefined;
        return path && extend(path, { kind: 'size' });
      }
      default:
        return undefined;
    }
  }

  private record(path: Path, node: Node, inHas: boolean): void {
    for (const s of path.segments) if (s.kind === 'lookup') this.record(s.index, node, inHas);
    const text = renderPath(path);
    if (!this.reads.has(text)) this.reads.set(text, { root: path.root, segments: path.segments, text });
    if (!inHas) this.checkRefPath(path, node);
  }

  /** Reference values are known when the policy is saved: a path into them that leads nowhere is a typo. */
  private checkRefPath(path: Path, node: Node): void {
    if (path.root !== 'refs') return;
    const resolved = resolveRefs(this.refs, path.segments);
    if (typeof resolved === 'string') this.problem(resolved, node);
  }

  private checkWordComparison(node: Node, scope: Scope): void {
    const [left, right] = node.args as [Node, Node];
    for (const [side, other] of [
      [left, right],
      [right, left],
    ] as const) {
      const path = this.pathOf(side, scope);
      const words = path && vocabularyOf(path);
      if (words !== undefined && other.op === 'value' && typeof other.args === 'string' && !words.includes(other.args)) {
        this.problem(`"${other.args}" is never a value of ${renderPath(path!)} (${words.join(', ')})`, other);
      }
    }
  }

  private checkWordMembership(node: Node, scope: Scope): void {
    const [left, right] = node.args as [Node, Node];
    const path = this.pathOf(left, scope);
    const words = path && vocabularyOf(path);
    if (words === undefined) return;
    const literals = right.op === 'list' ? (right.args as Node[]) : [];
    for (const item of literals) {
      if (item.op === 'value' && typeof item.args === 'string' && !words.includes(item.args)) {
        this.problem(`"${item.args}" is never a value of ${renderPath(path!)} (${words.join(', ')})`, item);
      }
    }
    const refPath = this.pathOf(right, scope);
    if (refPath?.root !== 'refs') return;
    const resolved = resolveRefs(this.refs, refPath.segments);
    if (typeof resolved === 'string') return;
    for (const value of resolved.flat()) {
      if (typeof value === 'string' && !words.includes(value)) {
        this.problem(`${renderPath(refPath)} holds "${value}", never a value of ${renderPath(path!)} (${words.join(', ')})`, right);
      }
    }
  }

  private checkTcbMinimum(arg: Node, scope: Scope): void {
    for (const keys of this.staticMapKeys(arg, scope)) {
      if (keys.length === 0) this.problem('tcbAtLeast: the minimum names no TCB component', arg);
      for (const key of keys.filter((k) => !SNP_TCB_COMPONENTS.includes(k))) {
        this.problem(`tcbAtLeast: "${key}" is not an SNP TCB component (${SNP_TCB_COMPONENTS.join(', ')})`, arg);
      }
    }
  }

  /**
   * The key sets a map argument can have, when known before evaluation: a map literal, a reference map
   * (`refs.minTcb`), or any entry of a reference map indexed at run time (`refs.minTcb[cpu.product]`).
   */
  private staticMapKeys(arg: Node, scope: Scope): string[][] {
    if (arg.op === 'map') {
      const entries = arg.args as [Node, Node][];
      return [entries.flatMap(([k]) => (k.op === 'value' && typeof k.args === 'string' ? [k.args] : []))];
    }
    let path = this.pathOf(arg, scope);
    if (path === undefined && arg.op === '[]') {
      const base = this.pathOf((arg.args as [Node, Node])[0], scope);
      path = base && extend(base, EACH);
    }
    if (path?.root !== 'refs') return [];
    const resolved = resolveRefs(this.refs, path.segments);
    if (typeof resolved === 'string') return [];
    return resolved.filter((v) => typeof v === 'object' && !Array.isArray(v)).map((v) => Object.keys(v));
  }

  private checkVersionLiteral(arg: Node, scope: Scope): void {
    let values: RefValue[] = [];
    if (arg.op === 'value' && typeof arg.args === 'string') values = [arg.args];
    const path = this.pathOf(arg, scope);
    if (path?.root === 'refs') {
      const resolved = resolveRefs(this.refs, path.segments);
      if (typeof resolved !== 'string') values = resolved;
    }
    for (const v of values) {
      if (typeof v === 'string' && parseVersion(v) === undefined) {
        this.problem(`versionAtLeast: "${v}" is not a dotted decimal version`, arg);
      }
    }
  }

  /** An upper bound on the items a comprehension over `node` iterates (`size`: the range's own estimate). */
  private bound(node: Node, scope: Scope, size: number): number {
    const path = this.pathOf(node, scope);
    if (path?.root === 'refs') {
      const resolved = resolveRefs(this.refs, path.segments);
      if (typeof resolved === 'string') return size;
      return Math.max(0, ...resolved.map((v) => (typeof v === 'object' ? Object.keys(v).length : 1)));
    }
    if (path !== undefined) {
      const type = claimTypeAt(claimSegments(path) ?? []);
      return type?.kind === 'list' || type?.kind === 'map' ? type.maxItems : 1;
    }
    if (node.op === 'list') return (node.args as Node[]).length;
    return size;
  }

  private problem(message: string, node: Node): void {
    this.problems.push({ message, start: node.start });
  }
}

function extend(path: Path, segment: PathSegment): Path {
  return { root: path.root, segments: [...path.segments, segment] };
}

function isCelNamespace(node: Node, scope: Scope): boolean {
  return node.op === 'id' && node.args === 'cel' && !scope.has('cel');
}

function childrenOf(node: Node): Node[] {
  const a = node.args;
  switch (node.op) {
    case 'value':
    case 'id':
      return [];
    case '.':
    case '.?':
      return [(a as [Node])[0]];
    case '!_':
    case '-_':
      return [a as Node];
    case 'call':
      return (a as [string, Node[]])[1];
    case 'rcall': {
      const [, receiver, args] = a as [string, Node, Node[]];
      return [receiver, ...args];
    }
    case 'map':
      return (a as [Node, Node][]).flat();
    default:
      return Array.isArray(a) ? (a as Node[]) : [];
  }
}

/** Schema segments of a claim path (`gpus[*].arch` → gpus, *, arch), or undefined past a size(). */
function claimSegments(path: Path): string[] | undefined {
  if (path.root === 'refs' || path.segments.some((s) => s.kind === 'size')) return undefined;
  return [path.root, ...path.segments.map((s) => (s.kind === 'field' ? s.name : '*'))];
}

function vocabularyOf(path: Path): readonly string[] | undefined {
  const segments = claimSegments(path);
  const type = segments && claimTypeAt(segments);
  return type?.kind === 'string' ? type.values : undefined;
}
