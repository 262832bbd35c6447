import { test } from "node:test";
import assert from "node:assert/strict";
import { parseSetInto, StrvalsError, typedValue } from "../../src/install/strvals.js";
import type { Tree } from "../../src/install/values.js";

const parse = (expr: string, read: (raw: string) => unknown = typedValue, into: Tree = {}) => {
  parseSetInto(expr, into, read);
  return into;
};

/** Cases from Helm's strvals semantics (`--set`). */
const cases: { expr: string; want: Tree }[] = [
  { expr: "name=value", want: { name: "value" } },
  { expr: "a=1,b=true,c=FALSE,d=null", want: { a: 1, b: true, c: false, d: null } },
  { expr: "zero=0,lead=007,neg=-5,plus=+3,float=1.5,big=99999999999999999999", want: { zero: 0, lead: "007", neg: -5, plus: 3, float: "1.5", big: "99999999999999999999" } },
  { expr: "outer.inner.leaf=x", want: { outer: { inner: { leaf: "x" } } } },
  { expr: "list={a,b,c}", want: { list: ["a", "b", "c"] } },
  { expr: "list={1,true},after=z", want: { list: [1, true], after: "z" } },
  { expr: "empty=", want: { empty: "" } },
  { expr: "a=b=c", want: { a: "b=c" } },
  { expr: "a[0]=x,a[2]=z", want: { a: ["x", null, "z"] } },
  { expr: "a[0].name=x,a[0].port=80", want: { a: [{ name: "x", port: 80 }] } },
  { expr: "a[1][0]=x", want: { a: [null, ["x"]] } },
  { expr: "nodeSelector.kubernetes\\.io/os=linux", want: { nodeSelector: { "kubernetes.io/os": "linux" } } },
  { expr: "networks=10.0.0.0/8\\,192.168.0.0/16", want: { networks: "10.0.0.0/8,192.168.0.0/16" } },
  { expr: "spaced=a b c", want: { spaced: "a b c" } },
];

for (const c of cases)
  test(`--set ${c.expr}`, () => {
    assert.deepEqual(parse(c.expr), c.want);
  });

test("--set-string keeps every value a string", () => {
  assert.deepEqual(parse("a=1,b=true,c=null,l={1,2}", (raw) => raw), { a: "1", b: "true", c: "null", l: ["1", "2"] });
});

test("--set-file reads each value through the reader", () => {
  assert.deepEqual(parse("a=path/one,b.c=two", (raw) => `<${raw}>`), { a: "<path/one>", b: { c: "<two>" } });
});

test("later assignments overwrite earlier ones and merge into maps", () => {
  const into: Tree = { a: { x: 1 }, keep: true };
  parse("a.y=2", typedValue, into);
  parse("a.x=3", typedValue, into);
  assert.deepEqual(into, { a: { x: 3, y: 2 }, keep: true });
});

const errors: { expr: string; message: RegExp }[] = [
  { expr: "novalue", message: /key "novalue" has no value/ },
  { expr: "a,b=c", message: /key "a" has no value \(cannot end with ,\)/ },
  { expr: "list={a,b", message: /list must terminate with '}'/ },
  { expr: "a[x]=1", message: /error parsing index/ },
  { expr: "a[-1]=1", message: /negative -1 index not allowed/ },
  { expr: "a[70000]=1", message: /greater than maximum supported index/ },
  { expr: "a[0]x=1", message: /unexpected data at end of array index/ },
  { expr: `${"a.".repeat(31)}b=1`, message: /nested level is greater than maximum/ },
];

for (const c of errors)
  test(`--set ${c.expr.slice(0, 30)} is an error`, () => {
    assert.throws(() => parse(c.expr), (e: unknown) => e instanceof StrvalsError && c.message.test(e.message));
  });

test("a key used as a map and then as a list is an error, not a crash", () => {
  assert.throws(() => parse("a.b=1,a[0]=2"), StrvalsError);
  assert.throws(() => parse("a=1,a.b=2"), StrvalsError);
});
