import { Command } from "commander";
import { VERBS } from "./verbs";
import { explainError } from "../core/engineErrors";
import { survivePipeCloseOnStdio } from "./stdio";

// Each verb lives in src/cli/verbs/<verb>.ts and registers itself on the program; the list is
// in verbs/index.ts so adding a verb is one file plus one line.
async function main(argv: string[]): Promise<void> {
  survivePipeCloseOnStdio();
  const program = new Command()
    .name("hyperat")
    .description("Hyper adversarial tuning for pretrained Vision Transformers")
    .showHelpAfterError();
  for (const register of VERBS) register(program);
  await program.parseAsync(argv);
}

main(process.argv).catch((e: unknown) => {
  // Out-of-memory engine errors become a message saying what to lower (core/engineErrors.ts).
  const err = explainError(e);
  console.error(`hyperat: ${err.message}`);
  if (process.env.HYPERAT_DEBUG) console.error(err?.stack);
  process.exit(1);
});
