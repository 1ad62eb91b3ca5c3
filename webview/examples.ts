// The dashboard card with the adversarial-example strip: a model picker, then per test image
// the clean image, the adversarial one and the perturbation amplified, with their labels.
import type { ExampleStrip } from "../src/protocol/webview";
import { defaultStripTarget, exampleCaption, orderedItems, stripSummary } from "./exampleSummary";

let chosen: string | undefined;

export const EXAMPLES_CSS = `
  #card-examples { grid-column: 1 / -1; }
  .strip { display: flex; gap: 10px; overflow-x: auto; padding-bottom: 6px; }
  .example { flex: 0 0 auto; border: 1px solid var(--vscode-panel-border, #8884); border-radius: 3px; padding: 4px; font-size: 11px; }
  .example .imgs { display: flex; gap: 3px; }
  .example img { width: 64px; height: 64px; image-rendering: pixelated; }
  .example .kind-broken { color: var(--vscode-charts-red); }
  .example .kind-robust { color: var(--vscode-charts-green); }
  .example .kind-clean { opacity: .7; }
  .strip-legend { opacity: .75; margin: 4px 0; }`;

export function renderExamples(box: HTMLElement, strips: readonly ExampleStrip[]): void {
  if (strips.length === 0) {
    box.replaceChildren(Object.assign(document.createElement("p"), { className: "empty", textContent: "No examples yet: evaluate the run to see clean vs adversarial test images." }));
    return;
  }
  if (!chosen || !strips.some((s) => s.target === chosen)) chosen = defaultStripTarget(strips);
  const strip = strips.find((s) => s.target === chosen)!;
  const select = document.createElement("select");
  select.id = "examples-model";
  for (const s of strips) select.append(new Option(`${s.name} (${s.target})`, s.target, false, s.target === chosen));
  select.addEventListener("change", () => {
    chosen = select.value;
    renderExamples(box, strips);
  });
  const summary = Object.assign(document.createElement("span"), { id: "examples-summary", textContent: ` ${stripSummary(strip)} · eps ${strip.eps}, step ${strip.step}` });
  const legend = Object.assign(document.createElement("p"), { className: "strip-legend", textContent: "each: clean · adversarial · perturbation (×1/(2 eps), grey = unchanged)" });
  const row = document.createElement("div");
  row.className = "strip";
  for (const item of orderedItems(strip.items)) {
    const cap = exampleCaption(item);
    const card = document.createElement("div");
    card.className = "example";
    card.dataset.kind = cap.kind;
    const imgs = document.createElement("div");
    imgs.className = "imgs";
    for (const [src, alt] of [[item.clean, "clean"], [item.adversarial, "adversarial"], [item.perturbation, "perturbation"]] as const) {
      imgs.append(Object.assign(document.createElement("img"), { src, alt: `#${item.index} ${alt}`, title: alt }));
    }
    card.append(imgs, Object.assign(document.createElement("div"), { textContent: `#${item.index} · ${cap.labels}` }), Object.assign(document.createElement("div"), { className: `kind-${cap.kind}`, textContent: cap.verdict }));
    row.append(card);
  }
  box.replaceChildren(select, summary, legend, row);
}
