// Pure helpers of the dashboard's adversarial-example strip (webview/examples.ts), for node:test.
import type { ExampleItem, ExampleStrip } from "../src/protocol/webview";

/** The model shown first: the adaptive merge (HyperAT's result), else uniform, else the last. */
export function defaultStripTarget(strips: readonly ExampleStrip[]): string | undefined {
  for (const t of ["adaptive", "uniform"]) if (strips.some((s) => s.target === t)) return t;
  return strips[strips.length - 1]?.target;
}

/** "24 images: 9 robust, 12 broken (apgd-ce 10, apgd-t 2), 3 wrong without attack". */
export function stripSummary(strip: ExampleStrip): string {
  const robust = strip.items.filter((i) => i.brokenBy === null).length;
  const clean = strip.items.filter((i) => i.brokenBy === "clean").length;
  const byAttack = new Map<string, number>();
  for (const i of strip.items) if (i.brokenBy && i.brokenBy !== "clean") byAttack.set(i.brokenBy, (byAttack.get(i.brokenBy) ?? 0) + 1);
  const broken = [...byAttack.values()].reduce((a, b) => a + b, 0);
  const parts = [`${robust} robust`, `${broken} broken${broken ? ` (${[...byAttack].map(([a, n]) => `${a} ${n}`).join(", ")})` : ""}`];
  if (clean) parts.push(`${clean} wrong without attack`);
  return `${strip.items.length} images: ${parts.join(", ")}`;
}

/** The caption under one example: true label, both predictions, and what broke it. */
export function exampleCaption(i: ExampleItem): { labels: string; verdict: string; kind: "robust" | "broken" | "clean" } {
  const labels = `true ${i.label} · clean → ${i.cleanPred} · adv → ${i.advPred}`;
  if (i.brokenBy === null) return { labels, verdict: "robust", kind: "robust" };
  if (i.brokenBy === "clean") return { labels, verdict: "wrong without attack", kind: "clean" };
  return { labels, verdict: `broken by ${i.brokenBy}`, kind: "broken" };
}

const ORDER = { broken: 0, robust: 1, clean: 2 } as const;

/** The strip's order: broken examples first (what the attacks did), then robust ones, then those
 * wrong without attack (nothing to see); each group in test-split order. */
export function orderedItems(items: readonly ExampleItem[]): ExampleItem[] {
  return items
    .map((item, i) => ({ item, i, k: ORDER[exampleCaption(item).kind] }))
    .sort((a, b) => a.k - b.k || a.i - b.i)
    .map((x) => x.item);
}
