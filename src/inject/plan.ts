/**
 * Injection planned once per document shape. Workloads in one stream differ mostly in values
 * injection never reads (label values, replicas, selectors, env…) and in their name and
 * namespace. So a document is masked: every single-line plain scalar that injection does not
 * read is replaced by a numbered placeholder, and its name and namespace (which injection
 * only copies into labels and the report) too. Documents with the same masked text get the
 * same edits; the transform runs once, on the masked text, and its edits are replayed on
 * each document: positions shifted by the placeholders' length differences, placeholders
 * in the inserted text replaced by the document's own tokens.
 *
 * What injection reads, and so is never masked: `kind`; every annotation (keys and values);
 * label keys; the pod spec's containers, initContainers, volumes, hostNetwork and
 * automountServiceAccountToken (whole). Anything that does not fit the scheme (flow-style
 * metadata, a name that is quoted or that would be written differently, linkerd.io keys
 * already present, a failure or warning, an error, a document over 64 KiB) takes the
 * ordinary path.
 *
 * A planned shape is also kept as a template (its fixed text between the tokens): a later
 * document made of the same text around other safe plain scalars is recognised, and
 * injected, without being scanned at all.
 *
 * test/inject/plan.test.ts runs both paths over generated manifests (and renamed variants
 * that reuse the plans) and edge cases and compares them byte for byte; the goldens, made by
 * the ordinary path, hold.
 */
import { computeNeedsQuotes, emitScalar } from "./yaml/emit.js";
import { sortEdits, type Edit } from "./yaml/edit.js";
import { resolvePlain } from "./yaml/scan.js";
import type { MapNode, Node } from "./yaml/tree.js";
import { POD_TEMPLATE_PATH } from "./resource.js";
import type { Report } from "./report.js";
import type { DocOutcome, InjectConfig, Transformer } from "./transform.js";

/** A masked token: [start, end) in the document, and its text there. */
interface Token {
  start: number;
  end: number;
  raw: string;
  /** A name or namespace: injection writes it into labels (and the report). */
  copied?: boolean;
}

interface Masked {
  /** The document with every token replaced by its placeholder. */
  key: string;
  tokens: Token[];
  /** Index in `tokens` of the object's name (its report name: the name, or a Pod's generateName). */
  nameToken: number;
}

interface PlanEdit {
  start: number;
  end: number;
  text: string;
  /** The text holds placeholders to replace. */
  holes: boolean;
}

interface Plan {
  /** Edits in text order, in the masked text's positions. */
  edits: PlanEdit[];
  /** Placeholder starts and ends in the masked text (ascending). */
  starts: number[];
  ends: number[];
  report: Report;
  /** The template index that remembers it. */
  rememberedIn?: TemplateIndex;
}

const MARK = "Mq";
const placeholder = (i: number) => `${MARK}${i}Qm`;
const PLACEHOLDER_RE = /Mq(\d+)Qm/g;

/** Switches and counters for the tests that compare both paths (`gated`: see Gate). */
export const planCache = { enabled: true, gated: true, planned: 0, templated: 0, made: 0 };

/**
 * Plans pay only where shapes repeat: on a stream of varied documents, masking, planning and
 * looking templates up cost more than they save (twice the ordinary path's time on the mixed
 * benchmark stream). So each configuration counts, in windows of GATE_WINDOW documents, those
 * injected by a plan made before or a template; a window with fewer than a quarter of them
 * turns plans off for the next GATE_PAUSE documents, then one window tries them again.
 */
interface Gate {
  seen: number;
  reused: number;
  pausedUntil: number;
}
const GATE_WINDOW = 128;
const GATE_PAUSE = 2048;
const gates = new WeakMap<InjectConfig, Gate>();

function gate(cfg: InjectConfig): Gate {
  let g = gates.get(cfg);
  if (!g) gates.set(cfg, (g = { seen: 0, reused: 0, pausedUntil: 0 }));
  return g;
}

/** Counts a document offered to the plans; false while plans are off for this configuration. */
function admit(cfg: InjectConfig): boolean {
  const g = gate(cfg);
  g.seen++;
  if (!planCache.gated) return true;
  if (g.seen <= g.pausedUntil) return false;
  if (g.seen % GATE_WINDOW === 0) {
    if (g.reused < GATE_WINDOW / 4) g.pausedUntil = g.seen + GATE_PAUSE;
    g.reused = 0;
  }
  return true;
}

const paused = (cfg: InjectConfig) => planCache.gated && gate(cfg).seen <= gate(cfg).pausedUntil;

const MAX_PLANS = 256;
/** Larger documents take the ordinary path (plans and templates hold their text). */
const MAX_PLANNED_CHARS = 64 * 1024;
/**
 * Per configuration: the plans by masked text (null: the shape cannot be planned), and the shapes
 * seen once and not planned yet. A plan is made the second time a shape comes, so a stream of
 * shapes that never repeat pays for masking only, not for a second transform each.
 */
const plans = new WeakMap<InjectConfig, { byKey: Map<string, Plan | null>; once: Set<string> }>();

/**
 * The result of injecting `text` (whose scanned root is `root`) by way of a plan, or undefined
 * when the document must take the ordinary path.
 */
export function plannedInject(
  root: MapNode,
  text: string,
  cfg: InjectConfig,
  run: (masked: string) => Transformer | undefined,
): { parts: string[]; outcome: DocOutcome } | undefined {
  if (!planCache.enabled || paused(cfg) || text.length > MAX_PLANNED_CHARS || root.flow || text.includes("linkerd.io") || text.includes(MARK)) return undefined;
  const masked = mask(root, text);
  if (!masked) return undefined;
  let known = plans.get(cfg);
  if (!known) plans.set(cfg, (known = { byKey: new Map(), once: new Set() }));
  const { byKey, once } = known;
  let plan = byKey.get(masked.key);
  if (plan) gate(cfg).reused++;
  if (plan === undefined) {
    if (!once.delete(masked.key)) {
      if (once.size >= MAX_PLANS) once.clear();
      once.add(masked.key);
      return undefined;
    }
    gate(cfg).reused++; // the shape came back
    plan = makePlan(masked, run);
    if (byKey.size >= MAX_PLANS) byKey.clear();
    byKey.set(masked.key, plan);
  }
  if (plan === null) return undefined;
  planCache.planned++;
  const index = templateIndex(cfg);
  if (plan.rememberedIn !== index) {
    plan.rememberedIn = index;
    remember(index, template(masked, plan));
  }
  return apply(plan, masked.tokens, masked.nameToken, text);
}

// ---- templates: documents recognised without scanning them ----------------------------------

/**
 * A planned shape as text: the fixed segments between its tokens. A document made of the
 * same segments, with tokens that are safe plain scalars where the shape had tokens, scans
 * to the same tree up to those scalars (which injection does not read, or only copies), so
 * it takes the same plan: the scanner is not needed to know that.
 */
interface Template {
  segs: string[];
  copied: boolean[];
  nameToken: number;
  plan: Plan;
}

/**
 * Templates per configuration, indexed by their last segment (what follows the last token:
 * usually the containers, which tell similar workloads apart), grouped by its length.
 */
interface TemplateIndex {
  byLength: Map<number, Map<string, Template[]>>;
  count: number;
}
const MAX_TEMPLATES = 256;
const templates = new WeakMap<InjectConfig, TemplateIndex>();

function template(masked: Masked, plan: Plan): Template {
  const segs: string[] = [];
  const key = masked.key;
  let pos = 0;
  for (let i = 0; i < plan.starts.length; i++) {
    segs.push(key.slice(pos, plan.starts[i]));
    pos = plan.ends[i];
  }
  segs.push(key.slice(pos));
  return { segs, copied: masked.tokens.map((t) => t.copied === true), nameToken: masked.nameToken, plan };
}

/** The configuration's template index (a fresh one once it holds MAX_TEMPLATES). */
function templateIndex(cfg: InjectConfig): TemplateIndex {
  let index = templates.get(cfg);
  if (!index || index.count >= MAX_TEMPLATES) templates.set(cfg, (index = { byLength: new Map(), count: 0 }));
  return index;
}

function remember(index: TemplateIndex, t: Template): void {
  const last = t.segs[t.segs.length - 1];
  let bySuffix = index.byLength.get(last.length);
  if (!bySuffix) index.byLength.set(last.length, (bySuffix = new Map()));
  const list = bySuffix.get(last);
  if (!list) bySuffix.set(last, [t]);
  else {
    for (let i = 0; i < list.length; i++) if (list[i].plan === t.plan) return;
    if (list.length >= 8) list.pop();
    list.unshift(t);
  }
  index.count++;
}

/** Plain scalars a token may be replaced by without changing how the document scans (no `:`, `#`, spaces, quotes, flow indicators). */
const SAFE_TOKEN = /^[A-Za-z0-9_./][A-Za-z0-9_./-]*$/;

/**
 * The result of injecting `text` by a remembered template, or undefined. Call with the
 * text as transformDocument checked it (LF line ends, a final newline, no forbidden characters).
 */
export function templateInject(text: string, cfg: InjectConfig): { parts: string[]; outcome: DocOutcome } | undefined {
  if (!planCache.enabled || !admit(cfg) || text.length > MAX_PLANNED_CHARS) return undefined;
  const index = templates.get(cfg);
  if (!index) return undefined;
  for (const [length, bySuffix] of index.byLength) {
    if (length > text.length) continue;
    const list = bySuffix.get(text.slice(text.length - length));
    if (!list) continue;
    for (let i = 0; i < list.length; i++) {
      const t = list[i];
      const tokens = match(t, text);
      if (!tokens) continue;
      planCache.planned++;
      planCache.templated++;
      gate(cfg).reused++;
      return apply(t.plan, tokens, t.nameToken, text);
    }
  }
  return undefined;
}

function match(t: Template, text: string): Token[] | undefined {
  const segs = t.segs;
  const last = segs[segs.length - 1];
  if (!text.startsWith(segs[0]) || !text.endsWith(last)) return undefined;
  const tokens: Token[] = [];
  let pos = segs[0].length;
  for (let i = 1; i < segs.length; i++) {
    // the token ends where the next segment starts (segments are never empty, and a safe token
    // cannot hold the newline, `,`, `]`, `}` or ` #` a segment starts with)
    const end = i === segs.length - 1 ? text.length - last.length : text.indexOf(segs[i], pos);
    if (end <= pos || (i === segs.length - 1 && !text.startsWith(last, end))) return undefined;
    const raw = text.slice(pos, end);
    if (!SAFE_TOKEN.test(raw) || raw.includes("linkerd.io") || raw.includes(MARK)) return undefined;
    // a name or namespace: injection writes the string it reads, so it must read as that string
    // and be written plain (emitScalar(value) === raw, without the memo: names are seen once)
    if (t.copied[i - 1] && (resolvePlain(raw) !== raw || computeNeedsQuotes(raw))) return undefined;
    tokens.push({ start: pos, end, raw });
    pos = end + segs[i].length;
  }
  return pos === text.length ? tokens : undefined;
}

function makePlan(masked: Masked, run: (masked: string) => Transformer | undefined): Plan | null {
  planCache.made++;
  let t: Transformer | undefined;
  try {
    t = run(masked.key);
    if (!t) return null;
  } catch {
    return null; // errors are reported by the ordinary path, with the document's own values
  }
  const o = t.outcome;
  if (o.failures.length || o.warnings.length || o.reports.length !== 1) return null;
  const starts: number[] = [];
  const ends: number[] = [];
  let pos = 0;
  for (let i = 0; i < masked.tokens.length; i++) {
    const tok = masked.tokens[i];
    // placeholders are where the tokens were, shifted by the earlier ones' length differences
    const start = tok.start + pos;
    starts.push(start);
    ends.push(start + placeholder(i).length);
    pos += placeholder(i).length - (tok.end - tok.start);
  }
  const edits: PlanEdit[] = [];
  let last = 0;
  const ordered = sortEdits(t.editor.edits);
  for (let i = 0; i < ordered.length; i++) {
    const e: Edit = ordered[i];
    if (e.start < last || inside(starts, ends, e.start) || inside(starts, ends, e.end)) return null;
    last = e.end;
    edits.push({ start: e.start, end: e.end, text: e.text, holes: e.text.includes(MARK) });
  }
  return { edits, starts, ends, report: o.reports[0] };
}

/** Is `p` strictly inside a placeholder? */
function inside(starts: number[], ends: number[], p: number): boolean {
  for (let i = 0; i < starts.length; i++) if (p > starts[i] && p < ends[i]) return true;
  return false;
}

function apply(plan: Plan, tokens: Token[], nameToken: number, text: string): { parts: string[]; outcome: DocOutcome } {
  const parts: string[] = [];
  let pos = 0; // in the document
  let k = 0; // placeholders before the current masked position
  let shift = 0; // document position - masked position, after the first k placeholders
  const at = (p: number) => {
    while (k < plan.ends.length && plan.ends[k] <= p) {
      shift += tokens[k].end - tokens[k].start - (plan.ends[k] - plan.starts[k]);
      k++;
    }
    return p + shift;
  };
  for (let i = 0; i < plan.edits.length; i++) {
    const e = plan.edits[i];
    const start = at(e.start);
    if (start > pos) parts.push(text.slice(pos, start));
    if (e.text) parts.push(e.holes ? e.text.replace(PLACEHOLDER_RE, (_, n: string) => tokens[Number(n)].raw) : e.text);
    pos = at(e.end);
  }
  if (pos < text.length) parts.push(text.slice(pos));
  const report = { ...plan.report, name: tokens[nameToken]?.raw ?? plan.report.name };
  return { parts, outcome: { reports: [report], failures: [], warnings: [] } };
}

// ---- masking ------------------------------------------------------------------------------

class Masker {
  readonly tokens: Token[] = [];
  nameToken = -1;
  ok = true;
  constructor(readonly text: string) {}

  /** Masks a scalar that injection does not read (single-line plain scalars only). */
  scalar(n: Node | null): void {
    if (!n || n.kind !== "scalar" || n.style !== "plain") return;
    if (this.text.indexOf("\n", n.start) < n.end) return;
    this.tokens.push({ start: n.start, end: n.end, raw: this.text.slice(n.start, n.end) });
  }

  /** Masks every eligible scalar value of a subtree (map keys stay). */
  all(n: Node | null): void {
    if (!n) return;
    if (n.kind === "scalar") this.scalar(n);
    else if (n.kind === "map") for (let i = 0; i < n.entries.length; i++) this.all(n.entries[i].value);
    else for (let i = 0; i < n.items.length; i++) this.all(n.items[i].node);
  }

  /** Label values (keys stay). */
  labels(n: Node | null): void {
    if (n && n.kind === "map") for (let i = 0; i < n.entries.length; i++) this.scalar(n.entries[i].value);
  }

  /**
   * A name or namespace, replayed into labels and the report: masked only when the document
   * writes it exactly as injection would write it, else the document is not planned.
   */
  copied(n: Node | null, isName: boolean): void {
    if (!n || n.kind !== "scalar" || n.style !== "plain" || typeof n.value !== "string" || emitScalar(n.value) !== this.text.slice(n.start, n.end)) {
      this.ok = false;
      return;
    }
    if (isName) this.nameToken = this.tokens.length;
    this.tokens.push({ start: n.start, end: n.end, raw: this.text.slice(n.start, n.end), copied: true });
  }

  /** The object's metadata; `pod`: it is also the pod's (a Pod). */
  meta(n: Node | null, pod: boolean): void {
    if (!n) return;
    if (n.kind !== "map" || n.flow) {
      this.ok = false;
      return;
    }
    const hasName = n.entries.some((e) => e.key === "name" && e.value !== null && !(e.value.kind === "scalar" && (e.value.value === null || e.value.value === "")));
    for (let i = 0; i < n.entries.length && this.ok; i++) {
      const e = n.entries[i];
      switch (e.key) {
        case "name":
          this.copied(e.value, true);
          break;
        case "namespace":
          this.copied(e.value, false);
          break;
        case "generateName":
          // a Pod without a name is reported by its generateName
          if (pod && !hasName) this.copied(e.value, true);
          else if (pod) this.copied(e.value, false);
          else this.all(e.value);
          break;
        case "labels":
          this.labels(e.value);
          break;
        case "annotations":
          break;
        default:
          this.all(e.value);
      }
    }
  }

  /** A pod template's metadata (not the object's): labels' values and the rest, annotations stay. */
  podMeta(n: Node | null): void {
    if (!n) return;
    if (n.kind !== "map" || n.flow) {
      this.ok = false;
      return;
    }
    for (let i = 0; i < n.entries.length; i++) {
      const e = n.entries[i];
      if (e.key === "labels") this.labels(e.value);
      else if (e.key !== "annotations") this.all(e.value);
    }
  }

  podSpec(n: Node | null): void {
    if (!n || n.kind !== "map") return;
    for (let i = 0; i < n.entries.length; i++) {
      const e = n.entries[i];
      switch (e.key) {
        case "containers":
        case "initContainers":
        case "volumes":
        case "hostNetwork":
        case "automountServiceAccountToken":
          break;
        default:
          this.all(e.value);
      }
    }
  }

  /** Down the path to the pod template, masking what lies beside it. */
  toTemplate(n: Node | null, path: string[], depth: number): void {
    if (!n || n.kind !== "map") return;
    if (depth === path.length) {
      for (let i = 0; i < n.entries.length; i++) {
        const e = n.entries[i];
        if (e.key === "metadata") this.podMeta(e.value);
        else if (e.key === "spec") this.podSpec(e.value);
        else this.all(e.value);
      }
      return;
    }
    for (let i = 0; i < n.entries.length; i++) {
      const e = n.entries[i];
      if (e.key === path[depth]) this.toTemplate(e.value, path, depth + 1);
      else this.all(e.value);
    }
  }
}

function mask(root: MapNode, text: string): Masked | undefined {
  let kind: string | undefined;
  for (let i = 0; i < root.entries.length; i++) {
    const e = root.entries[i];
    if (e.key === "kind" && e.value && e.value.kind === "scalar" && typeof e.value.value === "string") kind = e.value.value.toLowerCase();
  }
  const path = kind === undefined ? undefined : POD_TEMPLATE_PATH[kind];
  if (!path) return undefined;
  const m = new Masker(text);
  const pod = kind === "pod";
  for (let i = 0; i < root.entries.length && m.ok; i++) {
    const e = root.entries[i];
    if (e.key === "kind") continue;
    if (e.key === "metadata") m.meta(e.value, pod);
    else if (e.key === "spec") {
      if (pod) m.podSpec(e.value);
      else m.toTemplate(e.value, path.slice(1), 0);
    } else m.all(e.value);
  }
  if (!m.ok || m.tokens.length === 0) return undefined;
  // the walk follows the text (entries in order, depth first): tokens come in order
  const tokens = m.tokens;
  for (let i = 1; i < tokens.length; i++) if (tokens[i].start < tokens[i - 1].end) return undefined;
  const pieces: string[] = [];
  let pos = 0;
  for (let i = 0; i < tokens.length; i++) {
    pieces.push(text.slice(pos, tokens[i].start), placeholder(i));
    pos = tokens[i].end;
  }
  pieces.push(text.slice(pos));
  return { key: pieces.join(""), tokens, nameToken: m.nameToken };
}
