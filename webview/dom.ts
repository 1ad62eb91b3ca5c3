// What both webview pages (the run dashboard, main.ts, and the compare page, compare.ts) build
// their DOM and colours from, so the two read alike and a theme fix lands once.

/** A VS Code theme variable's value on this page, or `fallback` when the theme does not set it. */
export const themeVar = (name: string, fallback: string) => getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;

const PALETTE = ["--vscode-charts-blue", "--vscode-charts-red", "--vscode-charts-green", "--vscode-charts-yellow", "--vscode-charts-purple", "--vscode-charts-orange"];
/** The i-th series colour from VS Code's chart palette (cycled). */
export const seriesColor = (i: number) => themeVar(PALETTE[i % PALETTE.length], "#888");

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Record<string, string>, text?: string): HTMLElementTagNameMap[K];
export function el(tag: `vscode-${string}`, attrs?: Record<string, string>, text?: string): HTMLElement;
export function el(tag: string, attrs: Record<string, string> = {}, text?: string): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

/** The page frame both pages share: body colours, the header row, the card grid and its cards. */
export function baseCss(minColumn: number): string {
  return `
    body { color: var(--vscode-foreground); font-family: var(--vscode-font-family); }
    header { display: flex; gap: 12px; align-items: center; flex-wrap: wrap; margin-bottom: 12px; }
    header h2 { margin: 0; font-weight: 600; }
    .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(${minColumn}px, 1fr)); gap: 12px; }
    .card { border: 1px solid var(--vscode-panel-border, #8884); border-radius: 4px; padding: 8px 12px; overflow-x: auto; }
    .card h3 { margin: 4px 0 8px; font-size: 1em; }
    .empty { opacity: .7; font-style: italic; }
    canvas { max-height: 240px; }`;
}
