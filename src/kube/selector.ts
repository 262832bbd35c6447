/**
 * Kubernetes equality- and set-based label selectors (`a=b,c!=d,e,!f,g in (x,y),h notin (z)`),
 * parsed once and matched locally, so that one list of objects can answer several selectors.
 */
export type Requirement =
  | { key: string; op: "exists" | "!exists" }
  | { key: string; op: "=" | "!="; value: string }
  | { key: string; op: "in" | "notin"; values: string[] };

export function parseSelector(selector: string | undefined): Requirement[] {
  if (!selector?.trim()) return [];
  const reqs: Requirement[] = [];
  // split on commas that are not inside parentheses
  const parts: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of selector) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      parts.push(cur);
      cur = "";
    } else cur += ch;
  }
  parts.push(cur);
  for (const raw of parts) {
    const p = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(p))) {
      reqs.push({ key: m[1], op: m[2] as "in" | "notin", values: m[3].split(",").map((v) => v.trim()) });
    } else if ((m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(p))) {
      reqs.push({ key: m[1], op: m[2] === "!=" ? "!=" : "=", value: m[3] });
    } else if ((m = /^!\s*(\S+)$/.exec(p))) {
      reqs.push({ key: m[1], op: "!exists" });
    } else if (/^\S+$/.test(p)) {
      reqs.push({ key: p, op: "exists" });
    } else {
      throw new Error(`invalid label selector "${selector}"`);
    }
  }
  return reqs;
}

export function matchesSelector(labels: Record<string, string> | undefined, selector: string | Requirement[] | undefined): boolean {
  const reqs = typeof selector === "string" || selector === undefined ? parseSelector(selector) : selector;
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case "exists":
        return has;
      case "!exists":
        return !has;
      case "=":
        return has && l[r.key] === r.value;
      case "!=":
        return !has || l[r.key] !== r.value;
      case "in":
        return has && r.values.includes(l[r.key]);
      case "notin":
        return !has || !r.values.includes(l[r.key]);
    }
  });
}
