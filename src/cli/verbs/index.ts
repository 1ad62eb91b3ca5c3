import type { Command } from "commander";
import { registerDoctor } from "./doctor";
import { registerDaemon } from "./daemon";
import { registerTrain } from "./train";
import { registerResume } from "./resume";
import { registerMerge } from "./merge";
import { registerRuns } from "./runs";
import { registerDemo } from "./demo";
import { registerSynth } from "./synth";
import { registerEval } from "./eval";
import { registerBench } from "./bench";
import { registerCheck } from "./check";

/** One entry per CLI verb; each adds itself to the commander program. */
export const VERBS: Array<(program: Command) => void> = [
  registerDoctor,
  registerDaemon,
  registerCheck,
  registerTrain,
  registerResume,
  registerMerge,
  registerRuns,
  registerDemo,
  registerSynth,
  registerEval,
  registerBench,
];
