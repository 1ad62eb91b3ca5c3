// Number formatting shared by the tree, the status bar and the config decorations.

/** "41.2%" for 0.4123; "–" when unknown. */
export function percent(x: number | undefined, digits = 1): string {
  return x === undefined || !Number.isFinite(x) ? "–" : `${(x * 100).toFixed(digits)}%`;
}

/** 1234567 -> "1.23M", 45210 -> "45.2K". */
export function compactCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toPrecision(3)}B`;
  if (n >= 1e6) return `${(n / 1e6).toPrecision(3)}M`;
  if (n >= 1e3) return `${(n / 1e3).toPrecision(3)}K`;
  return String(n);
}
