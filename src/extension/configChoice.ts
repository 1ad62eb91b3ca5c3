// Which *.hyperat.json "Start Run" trains (issue 16 item 1: it once trained a stale selection
// while another config was open). Order: an explicit argument (CodeLens, explorer menu), the
// active editor's config, the only config of the workspace, else the user picks — with the
// previous choice offered first, never taken silently. Pure over paths for node:test.

export interface ConfigChoiceInputs {
  /** A config passed by the caller (CodeLens, explorer context menu). */
  explicit?: string;
  /** The active text editor's file, whatever it is. */
  activeEditor?: string;
  /** Every *.hyperat.json in the workspace. */
  configs: readonly string[];
  /** The config chosen last time; only ever a default in the pick. */
  previous?: string;
  /** Asks the user among `candidates` (the previous choice first); undefined when dismissed. */
  pick(candidates: readonly string[]): Promise<string | undefined>;
}

export type ConfigChoice =
  | { kind: "chosen"; path: string; how: "explicit" | "active editor" | "only config" | "picked" }
  | { kind: "none"; why: "no config" | "dismissed" };

export function isConfigPath(path: string | undefined): path is string {
  return !!path && /\.hyperat\.json$/i.test(path);
}

export async function chooseConfig(i: ConfigChoiceInputs): Promise<ConfigChoice> {
  if (i.explicit) return { kind: "chosen", path: i.explicit, how: "explicit" };
  if (isConfigPath(i.activeEditor)) return { kind: "chosen", path: i.activeEditor, how: "active editor" };
  if (i.configs.length === 0) return { kind: "none", why: "no config" };
  if (i.configs.length === 1) return { kind: "chosen", path: i.configs[0], how: "only config" };
  const ordered = i.previous && i.configs.includes(i.previous) ? [i.previous, ...i.configs.filter((c) => c !== i.previous)] : [...i.configs];
  const picked = await i.pick(ordered);
  return picked ? { kind: "chosen", path: picked, how: "picked" } : { kind: "none", why: "dismissed" };
}

/** "two.hyperat.json" from a path (either separator). */
export function configFileName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}
