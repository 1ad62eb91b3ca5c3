import type { Command } from "commander";
import { registerDoctor } from "./doctor";
import { registerDemo } from "./demo";

/** One entry per CLI verb; each adds itself to the commander program. */
export const VERBS: Array<(program: Command) => void> = [
  registerDoctor,
  registerDemo,
];
